// Grafana's contract with the hosts: its in-host name and port. The ec2 host's Caddy front forwards
// the admin port to it by these values, before the presentation phase places Grafana. Pure.

/** Service name (and in-host hostname) of Grafana. */
export const GRAFANA_SERVICE = "grafana";
/** Port Grafana serves on, and the port operators open it at. */
export const GRAFANA_PORT = 3000;
