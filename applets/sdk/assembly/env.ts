// Host imports of ABI v1 (runtime/abi.ts IMPORTS is the source of truth; runtime/abi.test.ts checks this file).
@external("mfi", "log") export declare function log(ptr: usize, len: usize): void;
@external("mfi", "input_len") export declare function input_len(): i32;
@external("mfi", "input_read") export declare function input_read(dst: usize, offset: u32, len: u32): i32;
@external("mfi", "state_get") export declare function state_get(device: usize, keyPtr: usize, keyLen: u32, dst: usize, cap: u32): i32;
@external("mfi", "state_set") export declare function state_set(device: usize, keyPtr: usize, keyLen: u32, valPtr: usize, valLen: i32): void;
@external("mfi", "emit") export declare function emit(ptr: usize, len: usize): void;
@external("mfi", "claim") export declare function claim(device: usize, output: u64): void;
@external("mfi", "random") export declare function random(): i64;
@external("mfi", "abort") export declare function abort(ptr: usize, len: usize): void;
