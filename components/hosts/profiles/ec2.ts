// The ec2 host's pure half: what its settings expose.
import { Host } from "../../types";
import type { HostProfile } from "../adapter";

export const ec2Profile: HostProfile = {
  host: Host.Ec2,
  settingsKey: "ec2",
  placementFact: { field: "instanceId", source: "ShippingPhase.instanceId" },
  exposes: ({ ec2 }) => ({
    ingest: ec2?.domain
      ? { available: true, detail: `https://${ec2.domain} (Caddy, certificate issued automatically)` }
      : { available: true, detail: "an API Gateway HTTPS URL in front of the instance" },
    // The security group opens the admin ports to adminCidrs only; without them, SSM port forwarding.
    operatorPortsOffHost: (ec2?.adminCidrs ?? []).length > 0,
    // With a domain Caddy holds a trusted certificate for it and serves the admin ports too; through
    // SSM the browser opens localhost, which no certificate for the domain could match.
    operatorPortsFronted: ec2?.domain !== undefined && (ec2?.adminCidrs ?? []).length > 0,
  }),
  // One machine, one collector.
  gatewayScale: () => undefined,
};
