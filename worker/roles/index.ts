/** The worker's roles as processes (issue 23): scheduler, prover, submitter; leader locks on Postgres. */
export { runProver, runScheduler, runSubmitter, type RoleEvent, type RunningRole } from "./roles.ts";
export { pgLeaderLock, soleLeader, LOCK_ROLES, type LeaderLock } from "./leader.ts";
export { serveRole, RoleNeedsPostgresError, type RoleName, type ServeRoleOptions } from "./serve.ts";
