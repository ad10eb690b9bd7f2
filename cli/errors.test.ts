import { describe, expect, it } from "vitest";
import { CircuitNotBuiltError, ReceiptMismatchError } from "../circuits/index.ts";
import { ContractsEnvironmentError } from "../contracts/index.ts";
import { CompileError, ManifestError } from "../toolchain/index.ts";
import { ValidationError } from "../runtime/index.ts";
import { CommanderError } from "commander";
import { CliError, exitCodeOf, UnreachableError, UsageError } from "./errors.ts";

describe("exitCodeOf: one table of exit codes", () => {
  it("maps each error class to the code docs/cli.md names", () => {
    expect(exitCodeOf(new UsageError("no chain: pass --rpc"))).toBe(2);
    const down = new UnreachableError("http://127.0.0.1:1", { hint: "is the node running?" });
    expect(down.message).toBe("cannot reach http://127.0.0.1:1 (is the node running?)");
    expect(exitCodeOf(down)).toBe(3);
    expect(exitCodeOf(new CliError("failed"))).toBe(1);
    expect(exitCodeOf(new ContractsEnvironmentError("no chain"))).toBe(3);
    expect(exitCodeOf(new CircuitNotBuiltError("not built"))).toBe(3);
    expect(exitCodeOf(new ManifestError("bad applet.json"))).toBe(2);
    expect(exitCodeOf(new SyntaxError("bad JSON"))).toBe(2);
    expect(exitCodeOf(new ReceiptMismatchError("does not verify"))).toBe(1);
    expect(exitCodeOf(new ValidationError("function 3 uses f64", { code: "FloatInstruction" }))).toBe(2);
    expect(exitCodeOf(new CompileError("asc failed"))).toBe(3);
    expect(exitCodeOf(new CommanderError(1, "commander.unknownOption", "unknown option"))).toBe(2);
    expect(exitCodeOf(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"))).toBe(0);
    expect(exitCodeOf(new Error("anything else"))).toBe(1);
  });
});
