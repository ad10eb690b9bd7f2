/**
 * The threat list and its answers in one suite (docs/security.md names each test). Each area's attacks live in
 * test/attacks/<area>.ts and register their describe blocks when imported here, so the whole list runs as one file
 * with real circuits, real anvil and real proofs where the attack needs one.
 */
import "./attacks/values.ts";
import "./attacks/verify.ts";
import "./attacks/fuel.ts";
import "./attacks/dev-keys.ts";
import "./attacks/schedule.ts";
import "./attacks/market.ts";
import "./attacks/timestamps.ts";
import "./attacks/batch.ts";
