// Worker threads start without the parent's TypeScript loader: register tsx, then load runtime/worker-main.ts.
import { register } from "tsx/esm/api";

register();
await import("./worker-main.ts");
