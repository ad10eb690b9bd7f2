/** Test helper shared by the contracts tests: awaits a call that must revert with the named custom error. */
import { expect } from "vitest";
import { ContractRevertedError } from "./errors.ts";

/** Resolves to the decoded error when `p` rejects with the custom error `name`; fails the test otherwise. */
export async function reverted(p: Promise<unknown>, name: string): Promise<ContractRevertedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${name}`).toBeInstanceOf(ContractRevertedError);
  expect((err as ContractRevertedError).errorName).toBe(name);
  return err as ContractRevertedError;
}
