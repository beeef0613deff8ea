// Where instrumented functions and Firehose send, judged before anything exists (pure).
// A function inside Lambda that is told to export to 127.0.0.1 exports to its own sandbox: every span is
// lost without a word. These rules refuse every endpoint Lambda cannot reach and every plain-HTTP
// endpoint that would carry the bearer token across the internet. Only addresses written as IP literals
// (and `localhost`) can be judged here; a DNS name counts as public.

/** What kind of address a URL's host is, as far as Lambda is concerned. */
export enum AddressKind {
  Loopback = "loopback",
  LinkLocal = "link-local",
  Unspecified = "unspecified",
  Private = "private",
  Public = "public",
}

function ipv4Kind(host: string): AddressKind | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (a === 127) return AddressKind.Loopback;
  if (host === "0.0.0.0") return AddressKind.Unspecified;
  if (a === 169 && b === 254) return AddressKind.LinkLocal;
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return AddressKind.Private;
  if (a === 100 && b >= 64 && b <= 127) return AddressKind.Private; // carrier-grade NAT, VPC-only too
  return AddressKind.Public;
}

/** Classifies a host name or IP literal (IPv6 with or without brackets). */
export function addressKind(host: string): AddressKind {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return AddressKind.Loopback;
  const v4 = ipv4Kind(h);
  if (v4) return v4;
  if (h.includes(":")) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return ipv4Kind(mapped[1]) ?? AddressKind.Public;
    if (/^(0*:)*:?0*1$/.test(h) && h !== "1") return AddressKind.Loopback;
    if (/^(0*:)*:?0*$/.test(h)) return AddressKind.Unspecified;
    if (/^fe[89ab]/.test(h)) return AddressKind.LinkLocal;
    if (/^f[cd]/.test(h)) return AddressKind.Private;
  }
  return AddressKind.Public;
}

/** Why Lambda functions cannot (or must not) send to `url` with a bearer token, or undefined when they can. */
export function otlpEndpointProblem(url: string | undefined, privateEndpoint: boolean): string | undefined {
  if (!url) return "instrumented functions would get no OTLP endpoint at all";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `${url} is not an http(s) URL`;
  const kind = addressKind(parsed.hostname);
  switch (kind) {
    case AddressKind.Loopback:
      return `instrumented functions would export to ${url}: inside Lambda that is the function's own sandbox (loopback), so every span would be lost`;
    case AddressKind.LinkLocal:
      return `instrumented functions would export to ${url}, a link-local address Lambda cannot reach`;
    case AddressKind.Unspecified:
      return `instrumented functions would export to ${url}: ${parsed.hostname} is a bind-all address, not one anything can send to`;
    case AddressKind.Private:
      return privateEndpoint
        ? undefined
        : `instrumented functions would export to ${url}, a private address only functions in a VPC that routes there can reach (Firefly cannot check that)`;
    case AddressKind.Public:
      return parsed.protocol === "http:"
        ? `instrumented functions would send their bearer token to ${url} over plain HTTP across the internet`
        : undefined;
  }
}

/** Why Firehose cannot deliver to `url`, or undefined when it can (HTTPS on 443 is checked by the schema). */
export function firehoseUrlProblem(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  const kind = addressKind(host);
  return kind === AddressKind.Public
    ? undefined
    : `Firehose would deliver to ${url}, a ${kind} address: Firehose reaches only public HTTPS endpoints`;
}
