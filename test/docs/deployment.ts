// What `pulumi up` creates on each named path, the AWS permissions that takes, and an estimated monthly
// bill: all derived from the resources the program really registers (index.ts under Pulumi mocks), so
// docs/deployment.md cannot drift from the code. `FIREFLY_UPDATE_DOCS=1 npx mocha
// test/docs/deployment.test.ts` rewrites the document.
import { type Rendered, renderProgram } from "../hosts/programUnderMocks";

/** A named path of the README: the stack config a newcomer sets. */
export interface NamedPath {
  readonly name: string;
  readonly config: Record<string, string>;
}

export const PATHS: NamedPath[] = [
  {
    name: "On AWS (ec2, metrics and logs on, Prometheus + Jaeger)",
    config: {
      host: "ec2",
      storage: "prometheus",
      metrics: "true",
      logs: "true",
      functions: JSON.stringify(["orders"]),
      ec2: JSON.stringify({ adminCidrs: ["203.0.113.0/24"] }),
    },
  },
  {
    name: "On your own Docker with a tunnel (metrics off)",
    config: {
      host: "docker",
      storage: "prometheus",
      functions: JSON.stringify(["orders"]),
      docker: JSON.stringify({ publicUrl: "https://ingest.example.com" }),
    },
  },
  {
    name: "On Kubernetes (Ingress with TLS)",
    config: {
      host: "kubernetes",
      storage: "prometheus",
      functions: JSON.stringify(["orders"]),
      kubernetes: JSON.stringify({ ingressHost: "ingest.example.com" }),
    },
  },
];

/** Every resource index.ts registers with this stack config (the program under the shared mocks). */
export const resourcesOf = (config: Record<string, string>): Promise<Rendered[]> => renderProgram(config);

/**
 * The IAM actions `pulumi up`, `preview`, `refresh` and `destroy` need per AWS resource type: what the
 * provider calls to create, read, update, tag and delete it. A resource type the program creates that
 * is missing here fails the test, so the list grows with the code.
 */
export const ACTIONS: Record<string, string[]> = Object.fromEntries(
  Object.entries({
    "aws:apigatewayv2/api:Api":
      "apigateway:POST apigateway:GET apigateway:PATCH apigateway:DELETE apigateway:TagResource",
    "aws:apigatewayv2/integration:Integration":
      "apigateway:POST apigateway:GET apigateway:PATCH apigateway:DELETE",
    "aws:apigatewayv2/route:Route": "apigateway:POST apigateway:GET apigateway:PATCH apigateway:DELETE",
    "aws:apigatewayv2/stage:Stage": "apigateway:POST apigateway:GET apigateway:PATCH apigateway:DELETE",
    "aws:apigatewayv2/vpcLink:VpcLink":
      "apigateway:POST apigateway:GET apigateway:PATCH apigateway:DELETE ec2:CreateNetworkInterface ec2:DescribeNetworkInterfaces ec2:DeleteNetworkInterface iam:CreateServiceLinkedRole",
    "aws:cloudwatch/metricStream:MetricStream":
      "cloudwatch:PutMetricStream cloudwatch:GetMetricStream cloudwatch:DeleteMetricStream cloudwatch:TagResource cloudwatch:ListTagsForResource iam:PassRole",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
      "logs:PutSubscriptionFilter logs:DescribeSubscriptionFilters logs:DeleteSubscriptionFilter iam:PassRole",
    "aws:cloudwatch/logStream:LogStream": "logs:CreateLogStream logs:DescribeLogStreams logs:DeleteLogStream",
    "aws:cloudwatch/logGroup:LogGroup":
      "logs:CreateLogGroup logs:DescribeLogGroups logs:PutRetentionPolicy logs:DeleteLogGroup logs:TagResource logs:ListTagsForResource",
    "aws:ec2/eip:Eip":
      "ec2:AllocateAddress ec2:DescribeAddresses ec2:ReleaseAddress ec2:CreateTags ec2:DescribeAddressesAttribute",
    "aws:ec2/eipAssociation:EipAssociation":
      "ec2:AssociateAddress ec2:DisassociateAddress ec2:DescribeAddresses",
    "aws:ec2/instance:Instance":
      "ec2:RunInstances ec2:DescribeInstances ec2:DescribeInstanceAttribute ec2:ModifyInstanceAttribute ec2:TerminateInstances ec2:StopInstances ec2:StartInstances ec2:CreateTags ec2:DescribeVolumes ec2:DescribeInstanceTypes ec2:DescribeInstanceCreditSpecifications ec2:ModifyInstanceMetadataOptions iam:PassRole",
    "aws:ec2/securityGroup:SecurityGroup":
      "ec2:CreateSecurityGroup ec2:DescribeSecurityGroups ec2:DeleteSecurityGroup ec2:AuthorizeSecurityGroupIngress ec2:AuthorizeSecurityGroupEgress ec2:RevokeSecurityGroupIngress ec2:RevokeSecurityGroupEgress ec2:CreateTags ec2:DescribeSecurityGroupRules",
    "aws:ebs/volume:Volume":
      "ec2:CreateVolume ec2:DescribeVolumes ec2:ModifyVolume ec2:DeleteVolume ec2:CreateTags",
    "aws:ec2/volumeAttachment:VolumeAttachment": "ec2:AttachVolume ec2:DetachVolume ec2:DescribeVolumes",
    "aws:iam/instanceProfile:InstanceProfile":
      "iam:CreateInstanceProfile iam:GetInstanceProfile iam:DeleteInstanceProfile iam:AddRoleToInstanceProfile iam:RemoveRoleFromInstanceProfile iam:TagInstanceProfile iam:PassRole",
    "aws:iam/policy:Policy":
      "iam:CreatePolicy iam:GetPolicy iam:GetPolicyVersion iam:ListPolicyVersions iam:CreatePolicyVersion iam:DeletePolicyVersion iam:DeletePolicy iam:TagPolicy",
    "aws:iam/role:Role":
      "iam:CreateRole iam:GetRole iam:UpdateRole iam:UpdateAssumeRolePolicy iam:DeleteRole iam:TagRole iam:ListRolePolicies iam:ListAttachedRolePolicies iam:ListInstanceProfilesForRole",
    "aws:iam/rolePolicy:RolePolicy": "iam:PutRolePolicy iam:GetRolePolicy iam:DeleteRolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      "iam:AttachRolePolicy iam:DetachRolePolicy iam:ListAttachedRolePolicies",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
      "firehose:CreateDeliveryStream firehose:DescribeDeliveryStream firehose:UpdateDestination firehose:DeleteDeliveryStream firehose:TagDeliveryStream firehose:ListTagsForDeliveryStream firehose:StartDeliveryStreamEncryption iam:PassRole",
    "aws:lambda/layerVersion:LayerVersion":
      "lambda:PublishLayerVersion lambda:GetLayerVersion lambda:DeleteLayerVersion",
    "aws:lambda/function:Function":
      "lambda:CreateFunction lambda:GetFunction lambda:GetFunctionConfiguration lambda:UpdateFunctionConfiguration lambda:UpdateFunctionCode lambda:DeleteFunction lambda:TagResource lambda:ListVersionsByFunction lambda:GetFunctionCodeSigningConfig iam:PassRole",
    "aws:s3/bucketV2:BucketV2":
      "s3:CreateBucket s3:ListBucket s3:GetBucket* s3:PutBucketTagging s3:DeleteBucket s3:GetAccelerateConfiguration s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration",
    "aws:s3/bucket:Bucket":
      "s3:CreateBucket s3:ListBucket s3:GetBucket* s3:PutBucketTagging s3:DeleteBucket s3:GetAccelerateConfiguration s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
      "s3:PutBucketPublicAccessBlock s3:GetBucketPublicAccessBlock s3:DeleteBucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
      "s3:PutEncryptionConfiguration s3:GetEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
      "s3:PutEncryptionConfiguration s3:GetEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
      "s3:PutLifecycleConfiguration s3:GetLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
      "s3:PutLifecycleConfiguration s3:GetLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
      "s3:PutBucketOwnershipControls s3:GetBucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy": "s3:PutBucketPolicy s3:GetBucketPolicy s3:DeleteBucketPolicy",
    "aws:s3/bucketObject:BucketObject": "s3:PutObject s3:GetObject s3:GetObjectTagging s3:DeleteObject",
    "aws:s3/bucketObjectv2:BucketObjectv2": "s3:PutObject s3:GetObject s3:GetObjectTagging s3:DeleteObject",
    "aws:servicediscovery/httpNamespace:HttpNamespace":
      "servicediscovery:CreateHttpNamespace servicediscovery:GetNamespace servicediscovery:GetOperation servicediscovery:DeleteNamespace servicediscovery:TagResource servicediscovery:ListTagsForResource",
    "aws:servicediscovery/service:Service":
      "servicediscovery:CreateService servicediscovery:GetService servicediscovery:UpdateService servicediscovery:DeleteService servicediscovery:TagResource",
    "aws:servicediscovery/instance:Instance":
      "servicediscovery:RegisterInstance servicediscovery:GetInstance servicediscovery:DeregisterInstance servicediscovery:GetOperation route53:ChangeResourceRecordSets",
    "aws:ssm/parameter:Parameter":
      "ssm:PutParameter ssm:GetParameter ssm:GetParameters ssm:DescribeParameters ssm:DeleteParameter ssm:AddTagsToResource ssm:ListTagsForResource kms:Encrypt",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
      "ec2:AuthorizeSecurityGroupEgress ec2:RevokeSecurityGroupEgress ec2:DescribeSecurityGroupRules ec2:ModifySecurityGroupRules ec2:CreateTags",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      "ec2:AuthorizeSecurityGroupIngress ec2:RevokeSecurityGroupIngress ec2:DescribeSecurityGroupRules ec2:ModifySecurityGroupRules ec2:CreateTags",
    "aws:ssm/association:Association":
      "ssm:CreateAssociation ssm:DescribeAssociation ssm:UpdateAssociation ssm:DeleteAssociation",
    "aws:ssm/document:Document":
      "ssm:CreateDocument ssm:GetDocument ssm:DescribeDocument ssm:UpdateDocument ssm:DeleteDocument ssm:AddTagsToResource",
  }).map(([type, actions]) => [type, actions.split(" ")]),
);

/** Reads the program makes through invokes and the existing-function provider. */
const LOOKUPS: Record<string, string[]> = {
  "aws:ec2/getAmi:getAmi": ["ec2:DescribeImages"],
  "aws:ec2/getVpc:getVpc": ["ec2:DescribeVpcs"],
  "aws:ec2/getSubnets:getSubnets": ["ec2:DescribeSubnets"],
  "aws:ec2/getSubnet:getSubnet": ["ec2:DescribeSubnets"],
  "aws:ec2/getInstance:getInstance": ["ec2:DescribeInstances"],
  "aws:lambda/getFunction:getFunction": ["lambda:GetFunction"],
  "aws:index/getCallerIdentity:getCallerIdentity": ["sts:GetCallerIdentity"],
  "existing functions (firefly:functions)": [
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetLayerVersion",
  ],
};

export const isAws = (r: Rendered) => r.type.startsWith("aws:");

/** The actions a deployment with these resources needs; throws on a resource type with no entry. */
export function permissionsFor(resources: Rendered[]): string[] {
  const missing = new Set<string>();
  const actions = new Set<string>(["sts:GetCallerIdentity"]);
  for (const r of resources.filter(isAws)) {
    const list = ACTIONS[r.type];
    if (!list) missing.add(r.type);
    for (const a of list ?? []) actions.add(a);
  }
  if (missing.size)
    throw new Error(
      `no IAM actions listed for ${[...missing].join(", ")}: add them to ACTIONS in test/docs/deployment.ts`,
    );
  const types = new Set(resources.map((r) => r.type));
  if ([...types].some((t) => t.startsWith("pulumi-nodejs:dynamic")))
    for (const a of LOOKUPS["existing functions (firefly:functions)"]) actions.add(a);
  if (types.has("aws:ec2/instance:Instance"))
    for (const t of ["aws:ec2/getAmi:getAmi", "aws:ec2/getVpc:getVpc", "aws:ec2/getSubnets:getSubnets"])
      for (const a of LOOKUPS[t]) actions.add(a);
  return [...actions].sort();
}

/** Counts per resource type, sorted by type. */
export function countByType(resources: Rendered[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

/**
 * AWS's public on-demand prices for us-east-1 (USD), as published on its pricing pages in November
 * 2026. Prices differ by region and change: the estimate says so.
 */
export const PRICES = {
  ec2Hourly: { "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "m6i.large": 0.096 } as Record<
    string,
    number
  >,
  gp3PerGbMonth: 0.08,
  publicIpv4Hourly: 0.005,
  httpApiPerMillion: 1.0,
  firehosePerGb: 0.029,
  firehoseRecordRoundKb: 5,
  metricStreamPer1000Updates: 0.003,
  logsIngestPerGb: 0.5,
};

/** What the estimate assumes about the workload. */
export const WORKLOAD = {
  functions: 10,
  invocationsPerMonth: 1_000_000,
  hoursPerMonth: 730,
  minutesPerMonth: 43_800,
  /** Metric updates per function per active minute: 4 metrics + Duration's p50/p90/p99 as extra statistics. */
  metricUpdatesPerFunctionMinute: 8,
  /** A metric stream JSON record (one update) is well under Firehose's 5 KB billing increment. */
  accessLogBytesPerRequest: 300,
};

export interface CostLine {
  readonly item: string;
  readonly usd: number;
  readonly basis: string;
}

const money = (n: number) => `$${n.toFixed(2)}`;
/** A unit price, with as many decimals as it has. */
const rate = (n: number) => `$${n}`;

/** The monthly bill this set of resources implies under WORKLOAD, one line per resource that costs. */
export function estimateMonthly(resources: Rendered[]): CostLine[] {
  const lines: CostLine[] = [];
  const W = WORKLOAD;
  const P = PRICES;
  const inputs = (r: Rendered) => r.inputs;
  for (const r of resources) {
    if (r.type === "aws:ec2/instance:Instance") {
      const i = inputs(r);
      const hourly = P.ec2Hourly[i.instanceType];
      if (hourly === undefined)
        throw new Error(`no price for instance type ${i.instanceType}: add it to PRICES`);
      lines.push({
        item: `EC2 ${i.instanceType}`,
        usd: hourly * W.hoursPerMonth,
        basis: `${rate(hourly)}/h × ${W.hoursPerMonth} h`,
      });
      const root = i.rootBlockDevice?.volumeSize ?? 8;
      lines.push({
        item: `EBS gp3 root volume, ${root} GB`,
        usd: root * P.gp3PerGbMonth,
        basis: `${rate(P.gp3PerGbMonth)}/GB-month`,
      });
      if (i.associatePublicIpAddress)
        lines.push({
          item: "public IPv4 address",
          usd: P.publicIpv4Hourly * W.hoursPerMonth,
          basis: `${rate(P.publicIpv4Hourly)}/h`,
        });
    }
    if (r.type === "aws:ebs/volume:Volume") {
      const size = inputs(r).size;
      lines.push({
        item: `EBS gp3 data volume, ${size} GB`,
        usd: size * P.gp3PerGbMonth,
        basis: `${rate(P.gp3PerGbMonth)}/GB-month`,
      });
    }
    if (r.type === "aws:apigatewayv2/api:Api") {
      // One OTLP request per invocation, plus Firehose's deliveries (one a minute per stream at most).
      const requests =
        W.invocationsPerMonth +
        W.minutesPerMonth *
          resources.filter((x) => x.type === "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
            .length;
      lines.push({
        item: "API Gateway HTTP API (the HTTPS front)",
        usd: (requests / 1e6) * P.httpApiPerMillion,
        basis: `${(requests / 1e6).toFixed(2)} M requests × ${rate(P.httpApiPerMillion)}/M`,
      });
    }
    if (r.type === "aws:cloudwatch/logGroup:LogGroup") {
      const gb = (W.invocationsPerMonth * W.accessLogBytesPerRequest) / 1e9;
      lines.push({
        item: "CloudWatch Logs (front access logs)",
        usd: gb * P.logsIngestPerGb,
        basis: `${gb.toFixed(2)} GB × ${rate(P.logsIngestPerGb)}/GB`,
      });
    }
    if (r.type === "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter") {
      // Platform lines only (the default filter): about one REPORT line per invocation, each its own
      // record in the worst case, billed as 5 KB.
      const perFunction = W.invocationsPerMonth / W.functions;
      const gb = (perFunction * P.firehoseRecordRoundKb * 1024) / 1e9;
      lines.push({
        item: `Firehose ingest for one function's platform log lines`,
        usd: gb * P.firehosePerGb,
        basis: `${gb.toFixed(2)} GB billed (worst case: one 5 KB-billed record per REPORT line) × ${rate(P.firehosePerGb)}/GB`,
      });
    }
    if (r.type === "aws:cloudwatch/metricStream:MetricStream") {
      const updates = W.functions * W.metricUpdatesPerFunctionMinute * W.minutesPerMonth;
      lines.push({
        item: "CloudWatch Metric Stream",
        usd: (updates / 1000) * P.metricStreamPer1000Updates,
        basis: `${(updates / 1e6).toFixed(2)} M updates × ${rate(P.metricStreamPer1000Updates)}/1,000`,
      });
      // Every update is one record, billed as 5 KB.
      const gb = (updates * P.firehoseRecordRoundKb * 1024) / 1e9;
      lines.push({
        item: "Firehose ingest for the metric stream",
        usd: gb * P.firehosePerGb,
        basis: `${gb.toFixed(1)} GB billed (worst case: one 5 KB-billed record per update) × ${rate(P.firehosePerGb)}/GB`,
      });
    }
  }
  return lines;
}

const configCommands = (config: Record<string, string>): string[] => {
  const out: string[] = [];
  const walk = (key: string, v: unknown) => {
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(`${key}[${i}]`, x);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(`${key}.${k}`, x);
    else
      out.push(
        key.includes(".") || key.includes("[")
          ? `pulumi config set --path '${key}' ${v}`
          : `pulumi config set ${key} ${v}`,
      );
  };
  for (const [k, raw] of Object.entries(config)) {
    let v: unknown = raw;
    try {
      v = raw.startsWith("{") || raw.startsWith("[") ? JSON.parse(raw) : raw;
    } catch {
      // a plain string
    }
    walk(`firefly:${k}`, v);
  }
  return out;
};

/** docs/deployment.md, from the resources each named path registers. */
export async function renderDeploymentDoc(): Promise<string> {
  const parts = [
    "# What `pulumi up` creates, the AWS permissions it needs, and what it costs",
    "",
    "<!-- Generated by test/docs/deployment.ts from the resources index.ts registers (under Pulumi mocks);",
    "     `FIREFLY_UPDATE_DOCS=1 npx mocha test/docs/deployment.test.ts` rewrites it, and the test fails when it is stale. -->",
    "",
    "Each section is one of the README's named paths, with one existing function (`orders`) to instrument.",
    "Counts include Pulumi's own component resources (`firefly:index:*`) and the providers' helper",
    "resources (random passwords, TLS keys). The permission list is what the deploying identity needs for",
    "`pulumi preview`, `up`, `refresh` and `destroy` of exactly these resource types; scope the resources",
    "further to your account if your policy allows.",
    "",
    "Cost estimates use AWS's public on-demand prices for us-east-1 (November 2026) and assume " +
      `${WORKLOAD.functions} instrumented functions, ${(WORKLOAD.invocationsPerMonth / 1e6).toFixed(0)} million invocations a month, ` +
      "every function active every minute (the metric stream's worst case), and no free tier. Regional prices",
    "differ and prices change: treat the totals as an order of magnitude, and check AWS's pricing pages.",
    "The layer itself adds about 5 ms of billed init per cold start and under 1 ms per invocation",
    "(see docs/benchmarks.md); at 128 MB that is a fraction of a cent per million invocations.",
    "",
  ];
  for (const p of PATHS) {
    const resources = await resourcesOf(p.config);
    parts.push(`## ${p.name}`, "", "```bash", ...configCommands(p.config), "pulumi up", "```", "");
    parts.push(`**${resources.length} resources:**`, "", "| type | count |", "|---|---|");
    for (const [type, n] of countByType(resources)) parts.push(`| \`${type}\` | ${n} |`);
    const actions = permissionsFor(resources);
    parts.push("", `**AWS permissions (${actions.length} actions):**`, "", "```json");
    parts.push(
      JSON.stringify(
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions, Resource: "*" }] },
        null,
        2,
      ),
    );
    parts.push("```", "");
    const lines = estimateMonthly(resources);
    const total = lines.reduce((s, l) => s + l.usd, 0);
    parts.push("**Estimated AWS cost per month:**", "", "| item | USD | basis |", "|---|---:|---|");
    for (const l of lines) parts.push(`| ${l.item} | ${money(l.usd)} | ${l.basis} |`);
    parts.push(`| **total** | **${money(total)}** | |`, "");
    if (!resources.some((r) => r.type === "aws:ec2/instance:Instance"))
      parts.push("The machine or cluster that runs the containers is yours and is not counted.", "");
  }
  return `${parts.join("\n").trimEnd()}\n`;
}
