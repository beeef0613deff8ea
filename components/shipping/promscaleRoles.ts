// Promscale without the superuser. Promscale's own permission model (its docs, "SQL Permissions"):
// the *owner* installs the timescaledb and promscale extensions and must be a superuser (or be allowed
// by pgextwlist); the connector can then run as a user holding only `prom_writer`, with its extension
// install, upgrade and schema migration switched off. Since extension 0.5 the whole schema ships in the
// promscale extension, so the owner's part is two CREATE EXTENSION statements, run once by the
// database image's init step as the bootstrap superuser; the long-running, network-facing connector
// never holds superuser rights.
/** Role the Promscale connector logs in as: prom_writer (reads and inserts; no delete, no DDL, no superuser). */
export const PROMSCALE_WRITER_USER = "firefly_promscale";
/** The Promscale role it is granted, and nothing else. */
export const PROMSCALE_WRITER_GRANT = "prom_writer";

// Runs once on the first start of an empty data directory, after 010 (the reader). The extensions are
// created here, as the superuser, because prom_writer cannot create them; the password comes from the
// environment so the file holds no secret.
export const PROMSCALE_ROLE_SCRIPT = `#!/bin/bash
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
  -v pw="$FIREFLY_PROMSCALE_PASSWORD" <<'SQL'
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE EXTENSION IF NOT EXISTS promscale;
CREATE ROLE ${PROMSCALE_WRITER_USER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'pw';
GRANT ${PROMSCALE_WRITER_GRANT} TO ${PROMSCALE_WRITER_USER};
SQL
`;

/** Connector environment: log in as the writer, never try to install, upgrade or migrate (the owner did). */
export function promscaleConnectorEnv(db: {
  host: string;
  port: number;
  name: string;
}): Record<string, string> {
  return {
    PROMSCALE_DB_HOST: db.host,
    PROMSCALE_DB_PORT: String(db.port),
    PROMSCALE_DB_NAME: db.name,
    PROMSCALE_DB_USER: PROMSCALE_WRITER_USER,
    // Plaintext stays inside the host's private network (compose network, namespace with policies).
    PROMSCALE_DB_SSL_MODE: "allow",
    // The database may still be initialising on first start.
    PROMSCALE_DB_CONNECT_RETRIES: "30",
    PROMSCALE_STARTUP_INSTALL_EXTENSIONS: "false",
    PROMSCALE_STARTUP_UPGRADE_EXTENSIONS: "false",
    PROMSCALE_STARTUP_SKIP_MIGRATE: "true",
  };
}
