/**
 * GET /reference: the API reference as one server-rendered page built from /openapi.json. It loads nothing from
 * anywhere (no script, no CDN, no font), so it reads the same on a gateway without internet; the viewer the gateway
 * used before (Scalar) fetched its bundle from a public CDN and was a blank page offline.
 */
import type { Child } from "hono/jsx";

type Json = Record<string, unknown>;
interface Doc {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Json>>;
  components?: { schemas?: Record<string, Json>; securitySchemes?: Record<string, Json> };
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const css = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;display:flex}
nav{width:17rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;border-right:1px solid #ddd;padding:1rem;box-sizing:border-box;font-size:13px}
nav a{display:block;color:#1f2328;text-decoration:none;padding:.1rem 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
main{padding:1rem 2rem;max-width:60rem;min-width:0}h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
section.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:3.5rem;font:700 12px ui-monospace,monospace;text-transform:uppercase;color:#fff;border-radius:3px;padding:.1rem .4rem;text-align:center}
.get{background:#0969da}.post{background:#1a7f37}.put,.patch{background:#9a6700}.delete{background:#cf222e}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:24rem}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem .2rem 0;text-align:left;vertical-align:top}
.lock{color:#9a6700;font-size:13px}details{margin:.3rem 0}summary{cursor:pointer}`;

const refName = (s: unknown): string | undefined =>
  typeof s === "object" && s !== null && typeof (s as Json).$ref === "string"
    ? String((s as Json).$ref)
        .split("/")
        .pop()
    : undefined;

/** A one-line type for a schema: a link to a named schema, or its type with the named parts linked. */
function TypeOf({ s }: { s: unknown }): Child {
  const name = refName(s);
  if (name) return <a href={`#schema-${name}`}>{name}</a>;
  if (typeof s !== "object" || s === null) return <>any</>;
  const o = s as Json;
  const alts = (o.anyOf ?? o.oneOf) as unknown[] | undefined;
  if (alts)
    return (
      <>
        {alts.map((a, i) => (
          <>
            {i > 0 ? " | " : ""}
            <TypeOf s={a} />
          </>
        ))}
      </>
    );
  if (o.type === "array")
    return (
      <>
        <TypeOf s={o.items} />
        []{o.maxItems !== undefined ? ` (at most ${o.maxItems})` : ""}
      </>
    );
  const t = Array.isArray(o.type) ? o.type.join(" | ") : String(o.type ?? "object");
  return <>{o.pattern ? `${t} ${String(o.pattern)}` : t}</>;
}

const pretty = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

function Examples({ media }: { media: Json }) {
  const examples = media.examples as Record<string, { value: unknown }> | undefined;
  const schemaEx = (media.schema as Json | undefined)?.example;
  const one = media.example ?? schemaEx;
  return (
    <>
      {one !== undefined ? <pre>{pretty(one)}</pre> : ""}
      {examples
        ? Object.entries(examples).map(([n, e]) => (
            <details>
              <summary>
                example: <code>{n}</code>
              </summary>
              <pre>{pretty(e.value)}</pre>
            </details>
          ))
        : ""}
    </>
  );
}

function Operation({ method, path, op, doc }: { method: string; path: string; op: Json; doc: Doc }) {
  const params = (op.parameters ?? []) as Json[];
  const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const responses = (op.responses ?? {}) as Record<string, Json>;
  const security = op.security as Record<string, unknown>[] | undefined;
  const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
  return (
    <section class="op" id={id}>
      <h3>
        <span class={`m ${method}`}>{method}</span> <code>{path}</code>
      </h3>
      <p>
        <b>{String(op.summary ?? "")}</b>
        {op.description ? ` — ${String(op.description)}` : ""}
      </p>
      {security && security.length > 0 ? (
        <p class="lock">
          needs {security.map((s) => Object.keys(s).join(" + ")).join(" or ")} (see{" "}
          <a href="#authentication">authentication</a>)
        </p>
      ) : (
        ""
      )}
      {params.length > 0 ? (
        <table>
          <tr>
            <th>parameter</th>
            <th>in</th>
            <th>type</th>
            <th>description</th>
          </tr>
          {params.map((p) => (
            <tr>
              <td>
                <code>{String(p.name)}</code>
                {p.required ? " *" : ""}
              </td>
              <td>{String(p.in)}</td>
              <td>
                <TypeOf s={p.schema} />
              </td>
              <td>{String(p.description ?? (p.schema as Json | undefined)?.description ?? "")}</td>
            </tr>
          ))}
        </table>
      ) : (
        ""
      )}
      {body
        ? Object.entries(body).map(([type, media]) => (
            <>
              <h4>
                request body <code>{type}</code>: <TypeOf s={media.schema} />
              </h4>
              <Examples media={withSchemaExample(media, doc)} />
            </>
          ))
        : ""}
      <h4>responses</h4>
      {Object.entries(responses).map(([code, r]) => {
        const content = (r.content ?? {}) as Record<string, Json>;
        return (
          <details open={code.startsWith("2")}>
            <summary>
              <b>{code}</b> {String(r.description ?? "")}{" "}
              {Object.entries(content).map(([type, media]) => (
                <>
                  <code>{type}</code> <TypeOf s={media.schema} />
                </>
              ))}
            </summary>
            {Object.values(content).map((media) => (
              <Examples media={withSchemaExample(media, doc)} />
            ))}
          </details>
        );
      })}
    </section>
  );
}

/** A media type's example, or else its named schema's. */
function withSchemaExample(media: Json, doc: Doc): Json {
  if (media.example !== undefined || media.examples !== undefined) return media;
  const name = refName(media.schema);
  const ex = name ? doc.components?.schemas?.[name]?.example : undefined;
  return ex === undefined ? media : { ...media, example: ex };
}

function Schema({ name, s }: { name: string; s: Json }) {
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return (
    <section id={`schema-${name}`}>
      <h3>{name}</h3>
      {s.description ? <p>{String(s.description)}</p> : ""}
      <table>
        {Object.entries(props).map(([p, ps]) => (
          <tr>
            <td>
              <code>{p}</code>
              {required.has(p) ? " *" : ""}
            </td>
            <td>
              <TypeOf s={ps} />
            </td>
            <td>
              {ps.deprecated ? "deprecated. " : ""}
              {String(ps.description ?? "")}
            </td>
          </tr>
        ))}
      </table>
    </section>
  );
}

export function ReferencePage({ doc, query = "" }: { doc: Doc; query?: string }) {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m, path, op: item[m]! })),
  );
  const schemes = doc.components?.securitySchemes ?? {};
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{doc.info.title} API reference</title>
        <link rel="icon" href="/favicon.svg" />
        <style>{css}</style>
      </head>
      <body>
        <nav>
          <b>{doc.info.title}</b>
          {ops.map((o) => (
            <a href={`#${`${o.method}-${o.path}`.replace(/[^a-zA-Z0-9]+/g, "-")}`}>
              <span class={`m ${o.method}`}>{o.method}</span> {o.path}
            </a>
          ))}
          <a href="#schemas">schemas</a>
        </nav>
        <main>
          <h1>
            {doc.info.title} API <small>v{doc.info.version}</small>
          </h1>
          <p>{doc.info.description ?? ""}</p>
          <p>
            The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are RFC 9457
            problems (<code>application/problem+json</code>). <a href={`/${query}`}>Home</a>
          </p>
          <h2 id="authentication">Authentication</h2>
          <table>
            {Object.entries(schemes).map(([n, s]) => (
              <tr>
                <td>
                  <code>{n}</code>
                </td>
                <td>
                  {s.type === "http" ? `HTTP ${String(s.scheme)}` : `${String(s.in)} parameter ${String(s.name)}`}
                </td>
                <td>{String(s.description ?? "")}</td>
              </tr>
            ))}
          </table>
          <h2>Operations ({ops.length})</h2>
          {ops.map((o) => (
            <Operation method={o.method} path={o.path} op={o.op} doc={doc} />
          ))}
          <h2 id="schemas">Schemas</h2>
          {Object.entries(doc.components?.schemas ?? {}).map(([n, s]) => (
            <Schema name={n} s={s} />
          ))}
        </main>
      </body>
    </html>
  );
}

/** The page as HTML text (built once per gateway: the document does not change while it runs). */
export async function renderReference(doc: unknown): Promise<string> {
  return "<!doctype html>" + String(await (<ReferencePage doc={doc as Doc} />));
}
