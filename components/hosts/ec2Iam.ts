// The ec2 host's instance permissions, as pure policy documents. Instead of the managed
// AmazonSSMManagedInstanceCore (which allows ssm:GetParameter(s) on every parameter in the account),
// the role gets what the SSM agent needs for Session Manager and for the State Manager association
// that applies projects, scoped to this instance, plus reads of Firefly's own parameters and buckets.
// Actions from the managed policy and AWS's "ec2messages, ssmmessages and other API operations"
// reference; ec2messages and ssmmessages have no resource-level permissions, so those statements are
// bound to this instance's credentials with `ec2:SourceInstanceARN` instead.

export interface InstanceScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly instanceId: string;
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** The one AWS document the association runs; AWS-owned documents have no account in their ARN. */
export const ASSOCIATION_DOCUMENT = "AWS-RunShellScript";

export const instanceArn = (s: InstanceScope) =>
  `arn:${s.partition}:ec2:${s.region}:${s.account}:instance/${s.instanceId}`;

/** Session Manager and the association's Run Command channel, for this instance only. */
export function ssmAgentPolicy(s: InstanceScope): PolicyDocument {
  const onlyThisInstance = { StringEquals: { "ec2:SourceInstanceARN": instanceArn(s) } };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AgentRegistersAndReportsThisInstance",
        Effect: "Allow",
        Action: [
          "ssm:UpdateInstanceInformation",
          "ssm:ListInstanceAssociations",
          "ssm:UpdateInstanceAssociationStatus",
          "ssm:PutComplianceItems",
        ],
        Resource: instanceArn(s),
      },
      {
        Sid: "AgentReadsItsAssociations",
        Effect: "Allow",
        Action: ["ssm:DescribeAssociation", "ssm:UpdateAssociationStatus"],
        Resource: [
          instanceArn(s),
          `arn:${s.partition}:ssm:${s.region}:${s.account}:association/*`,
          `arn:${s.partition}:ssm:${s.region}::document/${ASSOCIATION_DOCUMENT}`,
        ],
      },
      {
        Sid: "AgentReadsTheDocumentsItRuns",
        Effect: "Allow",
        Action: ["ssm:GetDocument", "ssm:DescribeDocument"],
        Resource: [
          `arn:${s.partition}:ssm:${s.region}::document/${ASSOCIATION_DOCUMENT}`,
          `arn:${s.partition}:ssm:${s.region}:${s.account}:document/SSM-SessionManagerRunShell`,
        ],
      },
      {
        Sid: "RunCommandChannel",
        Effect: "Allow",
        Action: [
          "ec2messages:AcknowledgeMessage",
          "ec2messages:DeleteMessage",
          "ec2messages:FailMessage",
          "ec2messages:GetEndpoint",
          "ec2messages:GetMessages",
          "ec2messages:SendReply",
        ],
        Resource: "*",
        Condition: onlyThisInstance,
      },
      {
        Sid: "SessionManagerChannel",
        Effect: "Allow",
        Action: [
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ],
        Resource: "*",
        Condition: onlyThisInstance,
      },
    ],
  };
}

/** Reads of this instance's own secrets and project bundles: nothing else in the account. */
export function secretsReadPolicy(s: InstanceScope & { readonly bucketPattern: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OwnParameters",
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: `arn:${s.partition}:ssm:${s.region}:${s.account}:parameter/firefly/${s.instanceId}/*`,
      },
      {
        Sid: "OwnProjectBundles",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: `arn:${s.partition}:s3:::${s.bucketPattern}/*`,
        // Bucket names are global: a bucket of that name in another account must not be readable.
        Condition: { StringEquals: { "s3:ResourceAccount": s.account } },
      },
    ],
  };
}

/** Actions that read secret material; a statement allowing any of these must never name `*`. */
export const SECRET_READ_ACTIONS = [
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "ssm:GetParameterHistory",
  "secretsmanager:GetSecretValue",
  "secretsmanager:BatchGetSecretValue",
  "kms:Decrypt",
  "s3:GetObject",
  "lambda:GetFunction",
  "lambda:GetFunctionConfiguration",
];

/** Whether an IAM action pattern (`ssm:Get*`, `*`) allows reading secret material. */
export function readsSecrets(action: string): boolean {
  const escaped = action.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  const pattern = new RegExp(`^${escaped}$`, "i");
  return SECRET_READ_ACTIONS.some((a) => pattern.test(a));
}
