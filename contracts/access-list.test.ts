import { describe, expect, it } from "vitest";
import { profitableEntries } from "./access-list.ts";

const slot = (i: number) => `0x${i.toString(16).padStart(64, "0")}`;
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;

describe("profitableEntries", () => {
  const from = addr(0xa11ce);
  const to = addr(0xba17);

  it("keeps every cold account the call touches, with or without slots", () => {
    const list = [
      { address: addr(0x1001), storageKeys: [] },
      { address: addr(0x1002), storageKeys: [slot(1), slot(2)] },
    ];
    expect(profitableEntries(list, [from, to])).toEqual(list);
  });

  it("drops the sender and the target unless their slots repay the 2,400 an account costs (100 a slot)", () => {
    const few = { address: to, storageKeys: [slot(1), slot(2)] };
    const many = {
      address: from.toUpperCase().replace("0X", "0x"),
      storageKeys: Array.from({ length: 25 }, (_, i) => slot(i)),
    };
    // 13 slots read first: 1,300 saved for 2,400 (measured on anvil: +1,100 gas with the target declared)
    const thirteen = { address: to, storageKeys: Array.from({ length: 13 }, (_, i) => slot(i)) };
    const twentyFour = { address: to, storageKeys: Array.from({ length: 24 }, (_, i) => slot(i)) };
    expect(profitableEntries([few, many, thirteen, twentyFour], [from, to])).toEqual([many]);
  });

  it("drops precompiles: they are always warm", () => {
    expect(profitableEntries([{ address: addr(8), storageKeys: [] }], [from, to])).toEqual([]);
  });
});
