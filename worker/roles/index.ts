/** The worker's roles as processes (issue 23): scheduler, runner, prover, submitter; leader locks on Postgres. */
export { runProver, runRunner, runScheduler, runSubmitter, type RoleEvent, type RunningRole } from "./roles.ts";
export { pgLeaderLock, soleLeader, withStartLock, LOCK_ROLES, type LeaderLock } from "./leader.ts";
export { serveRole, RoleNeedsPostgresError, type RoleName, type ServeRoleOptions } from "./serve.ts";
