// What the component provider adds to the schema the SDK's analyzer infers from the classes: the
// analyzer has no notion of secrets, so without this a Python, Go or YAML program would pass a token or
// password as plain text (kept so in the state as the component's input) and read secret outputs without
// the SDK marking them secret on its side.

/** Properties that hold a secret, in every component and type: passwords, tokens, keys, kubeconfig, the external stores' auth values. */
export const SECRET_PROPERTY = /(password|token|accesskey|privatekey|kubeconfig|auth)$/i;

type Props = Record<string, { secret?: boolean }>;
interface Schema {
  resources: Record<string, { properties?: Props; inputProperties?: Props }>;
  types: Record<string, { properties?: Props }>;
}

function mark(props: Props | undefined): void {
  for (const [name, prop] of Object.entries(props ?? {})) if (SECRET_PROPERTY.test(name)) prop.secret = true;
}

/** The schema with every secret property (inputs, outputs, nested types) marked `secret: true`. */
export function markSecrets(schemaJson: string): string {
  const schema = JSON.parse(schemaJson) as Schema;
  for (const resource of Object.values(schema.resources)) {
    mark(resource.properties);
    mark(resource.inputProperties);
  }
  for (const type of Object.values(schema.types)) mark(type.properties);
  return JSON.stringify(schema);
}
