// Worker threads start without the parent's TypeScript loader: register tsx here, then load the TypeScript body.
import { register } from "tsx/esm/api";

register();
await import(new URL("./verify-worker.ts", import.meta.url).href);
