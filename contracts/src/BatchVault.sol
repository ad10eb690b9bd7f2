// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {DeviceRegistry} from "./DeviceRegistry.sol";
import {AppletRegistry} from "./AppletRegistry.sol";
import {Groth16Points} from "./Groth16Points.sol";
import {IRewardMinter} from "./interfaces/IRewardMinter.sol";

/// @notice circomlib's Poseidon(2) as deployed EVM code: poseidon-solidity's PoseidonT3 library (npm
/// poseidon-solidity), called as a contract. The vault uses it once, in its constructor, for the empty tree's root.
interface IPoseidon2 {
    function hash(uint256[2] memory input) external pure returns (uint256);
}

/// @title BatchVault
/// @notice Aggregated claims (issue 26): one Groth16 proof credits up to N devices of one applet for one epoch.
/// Per applet the vault stores the root of an earnings tree (circuits/batch/tree.ts): one leaf per device key at
/// slot `deviceId mod 2^depth`, Poseidon(deviceId, cumulative units, first epoch, latest epoch, window). A batch proof
/// moves the root from `prevRoot` to `newRoot`; each device in it proved its signed readings and the applet's output
/// exactly as a single claim does, and may be credited only for an epoch not yet credited to it: later than its
/// leaf's latest, or one of the 64 before it whose bit in the leaf's window is clear (a late credit: a device left out
/// of an epoch's batches is credited for it even after a later epoch was).
/// The batch's new leaves come with it as calldata (`credits`, in slot order: anyone can rebuild the tree from the
/// chain alone) and the proof binds them: its public signals are a challenge `r` = keccak256(imageId, epoch,
/// prevRoot, newRoot, credits) mod p and `S` = epoch + prevRoot·r + newRoot·r² + Σ deviceId·r^(3+2i)
/// + (lag·2^240 + cumulative·2^144 + output·2^80 + firstEpoch)·r^(4+2i), which the circuit computes from its own leaves and the
/// vault from the calldata (circuits/batch/credits.ts). The vault keeps a keccak Merkle root of the credits per batch, so owners
/// withdraw a device's cumulative units minus what was already withdrawn with a few keccak hashes, not Poseidon.
/// Anyone may submit a batch: the proof is the only authority.
/// @dev The single-claim path (PayoutVault) and this one never pay the same device-epoch: AppletRegistry.setBatchVault
/// splits the applet's schedule at the epoch running at the switch; this vault credits that epoch and later ones
/// only, PayoutVault earlier ones only (BatchVault__EpochBeforeBatches, PayoutVault__BatchedEpoch).
/// Why the binding holds although the prover knows r before it picks its witness: every value the circuit puts into
/// S is bounded (range-checked, none wraps the field) and is hashed into its private newRoot, which is itself a term
/// of S; the roots fix the list (active devices in increasing slot order). So the prover cannot change one term
/// without changing newRoot's pseudo-random term too: matching the calldata's S with another witness is a search
/// over Poseidon outputs, about one chance in p per try (docs/security.md).
/// No reentrancy guard: submitBatch makes only static calls (registries, verifier), and withdraw mints through the
/// immutable reward token last, after raising the withdrawn counter (checks-effects-interactions); a guard's slot
/// would cost each of them ~4k gas for nothing.
contract BatchVault {
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Length of a batch proof: abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c), b in verifier order.
    uint256 public constant PROOF_LENGTH = 256;
    /// @notice Bytes of one credit in submitBatch's `credits`, big-endian: the device key's id (32), the epoch's
    /// output units (8), the cumulative units after the batch (12), the first credited epoch (10), the lag (1: how
    /// many epochs the batch's epoch lies before the device's latest credited one; 0 unless a late credit).
    uint256 public constant CREDIT_LENGTH = 63;
    /// @notice Most gas a batch verifier may use.
    uint256 public constant VERIFIER_GAS_CAP = 1_000_000;
    uint256 internal constant VERIFY_RESERVE = 20_000;
    /// @dev verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2]) and its uint256[3] form (with param).
    bytes4 internal constant VERIFY2 = 0xf5c9d69e;
    bytes4 internal constant VERIFY3 = 0x11479fea;

    /// @notice Registry of devices, their owners, makers and key windows.
    DeviceRegistry public immutable devices;
    /// @notice Registry of applets, their schedules, rewards and batch vaults.
    AppletRegistry public immutable applets;
    /// @notice Token minted at withdrawal (this vault must hold its minter role).
    IRewardMinter public immutable token;
    /// @notice Depth of every applet's earnings tree (the batch circuits' D).
    uint256 public immutable depth;
    /// @notice Root of the empty tree of `depth` (every applet starts from it).
    uint256 public immutable emptyRoot;
    /// @notice Block of the vault's deployment: readers of its batches scan its events from there, not from block 0.
    uint256 public immutable deployedAt;

    mapping(bytes32 imageId => mapping(uint256 n => address verifier)) private _verifiers;
    /// @dev 0 means the empty tree (emptyRoot): an applet's first batch starts there.
    mapping(bytes32 imageId => uint256 root) private _roots;
    mapping(bytes32 imageId => mapping(uint256 deviceId => uint256 units)) private _withdrawn;
    /// @dev The keccak Merkle root of a batch's credits → its epoch (a leaf hashes its credit and the epoch, and a
    /// key is credited once per epoch, so no two batches share a root).
    mapping(bytes32 imageId => mapping(bytes32 creditsRoot => uint256 epoch)) private _batches;
    /// @dev keccak256(imageId, tokenId, epoch) → output | PROVEN, as PayoutVault's facts.
    mapping(bytes32 fact => uint256 value) private _facts;
    uint256 internal constant PROVEN = 1 << 255;

    /// @dev A device's credit in one batch, as withdraw and recordFact take it: `record` holds its fields in one word,
    /// as in S: lag·2^240 + cumulative·2^144 + output·2^80 + firstEpoch (lag < 2^8: epochs between the batch's epoch
    /// and the device's latest credited one, 0 unless late; cumulative < 2^96: the device's units after the batch;
    /// output < 2^64: its units for the batch's epoch; firstEpoch < 2^80: its first credited epoch, packed); `batch`
    /// is the batch's credits root (BatchCredited's creditsRoot), `proof` the siblings from the leaf up. The leaf is
    /// keccak256(uint256(deviceId) ‖ uint64(output) ‖ uint96(cumulative) ‖ uint80(firstEpoch) ‖ uint8(lag)
    /// ‖ uint256(epoch)), the tree OpenZeppelin's MerkleProof (sorted pairs) over the batch's credits in their order,
    /// an odd node carried up. One word and flat arguments, not a struct of four: calldata is most of what a
    /// withdrawal costs beside its storage.
    uint256 internal constant RECORD_BITS = 248;

    /// @notice The verifier of the applet's batches of `n` devices was set.
    event BatchVerifierSet(bytes32 indexed imageId, uint256 indexed n, address verifier);
    /// @notice A batch of `credited` devices (proved with the circuit for `n`) was credited for `epoch`: the applet's
    /// root moved to `newRoot`; its credits (the transaction's calldata) have the keccak root `creditsRoot`.
    event BatchCredited(
        bytes32 indexed imageId,
        uint256 indexed epoch,
        uint256 prevRoot,
        uint256 newRoot,
        bytes32 creditsRoot,
        uint256 n,
        uint256 credited,
        address submitter
    );
    /// @notice `units` of device key `deviceId` were paid to `owner`, its token's owner at that moment (the key's token
    /// is DeviceRegistry.tokenOfKey(deviceId)). The reward is the token's Transfer (a mint to `owner`) in the same
    /// transaction: units × the applet's rewardPerUnit then; none when that is 0.
    event EarningsWithdrawn(bytes32 indexed imageId, uint256 indexed deviceId, address owner, uint256 units);

    /// @notice A batch credited device key `deviceId` (token `tokenId`) `output` for `epoch`: a fact other contracts
    /// read with factOf.
    event FactRecorded(bytes32 indexed imageId, uint256 indexed tokenId, uint256 indexed epoch, uint256 deviceId, uint256 output);

    /// @notice No batch of this applet has this credits root.
    error BatchVault__NoSuchBatch(bytes32 imageId, bytes32 creditsRoot);
    /// @notice The credit and its proof do not lead to the batch's credits root: a tampered or foreign credit.
    error BatchVault__NotInBatch(bytes32 imageId, uint256 deviceId, bytes32 creditsRoot);
    /// @notice A credit's record has bits above its lag's (the record is 248 bits: lag, cumulative, output, first epoch).
    error BatchVault__CreditOutOfRange(uint256 record);
    /// @notice `credits` is not 1 to n records of CREDIT_LENGTH bytes.
    error BatchVault__BadCredits(uint256 length, uint256 n);
    /// @notice Only AppletRegistry's registrars set batch verifiers.
    error BatchVault__NotRegistrar(address caller);
    /// @notice The epoch starts before the applet's switch to batches: it is paid by single claims (PayoutVault).
    error BatchVault__EpochBeforeBatches(bytes32 imageId, uint256 startMs, uint256 batchFromMs);
    /// @notice AppletRegistry does not name this vault as the applet's batch vault.
    error BatchVault__NotBatchApplet(bytes32 imageId, address batchVault);
    /// @notice A verifier for this applet and batch size is already set (verifiers never change), or is no contract.
    error BatchVault__BadVerifier(bytes32 imageId, uint256 n, address verifier);
    /// @notice No verifier for batches of `n` devices of this applet.
    error BatchVault__NoVerifierForSize(bytes32 imageId, uint256 n);
    /// @notice No applet with this imageId is registered.
    error BatchVault__UnknownApplet(bytes32 imageId);
    /// @notice The applet is paused.
    error BatchVault__AppletPaused(bytes32 imageId);
    /// @notice A public value (epoch, root) must lie below the BN254 scalar field.
    error BatchVault__ValueOutOfField(uint256 value);
    /// @notice The epoch's length is not the applet's epochLengthMs.
    error BatchVault__WrongEpochLength(bytes32 imageId, uint256 lengthMs, uint256 epochLengthMs);
    /// @notice The epoch starts before the applet's genesis.
    error BatchVault__EpochBeforeGenesis(bytes32 imageId, uint256 startMs, uint256 genesisMs);
    /// @notice The epoch's start is not genesisMs + i·epochLengthMs.
    error BatchVault__EpochMisaligned(bytes32 imageId, uint256 startMs, uint256 genesisMs, uint256 epochLengthMs);
    /// @notice The epoch has not ended by the block's time (ms).
    error BatchVault__EpochNotEnded(bytes32 imageId, uint256 endMs, uint256 nowMs);
    /// @notice The batch was proven from another root than the applet's current one (another batch came first):
    /// prove it again from the current root.
    error BatchVault__StaleRoot(bytes32 imageId, uint256 prevRoot, uint256 currentRoot);
    /// @notice The proof does not verify for (r, S[, param]) rebuilt from the epoch, the roots and the credits.
    error BatchVault__InvalidProof(bytes32 imageId, uint256 epoch);
    /// @notice The verifier used up the gas it was given: resend with a higher gas limit.
    error BatchVault__VerifierOutOfGas(bytes32 imageId, uint256 gasForwarded);
    /// @notice No device token has this key.
    error BatchVault__UnknownDevice(uint256 deviceId);
    /// @notice The applet does not pay devices of this maker.
    error BatchVault__DeviceNotAccepted(bytes32 imageId, uint256 tokenId, uint32 makerId);
    /// @notice The key was not the token's key over every credited epoch [first epoch start, last epoch end).
    error BatchVault__KeyNotValid(uint256 deviceId, uint256 firstEpoch, uint256 lastEpoch, uint256 validFromMs, uint256 validUntilMs);
    /// @notice Everything credited to this device was already withdrawn.
    error BatchVault__NothingToWithdraw(bytes32 imageId, uint256 deviceId, uint256 cumulative);
    /// @notice units * rewardPerUnit does not fit in 256 bits.
    error BatchVault__RewardOverflow(uint256 units, uint256 rewardPerUnit);

    /// @param devices_ Device registry (owners, makers, key windows).
    /// @param applets_ Applet registry (schedules, rewards, batch vaults, registrars).
    /// @param token_ Reward token; grant this vault its minter role.
    /// @param poseidon2_ circomlib Poseidon(2) contract (the empty tree's root is computed with it, here only).
    /// @param depth_ Earnings tree depth (the batch circuits' D).
    constructor(DeviceRegistry devices_, AppletRegistry applets_, IRewardMinter token_, IPoseidon2 poseidon2_, uint256 depth_) {
        (devices, applets, token, depth, deployedAt) = (devices_, applets_, token_, depth_, block.number);
        uint256 z;
        for (uint256 i; i < depth_; ++i) z = poseidon2_.hash([z, z]);
        emptyRoot = z;
    }

    /// @notice Sets the verifier of the applet's batches of `n` devices (once). AppletRegistry registrars only, and
    /// only for an applet whose batch vault is this one.
    function setBatchVerifier(bytes32 imageId, uint256 n, address verifier) external {
        if (!applets.hasRole(applets.REGISTRAR_ROLE(), msg.sender)) revert BatchVault__NotRegistrar(msg.sender);
        (address vault,) = applets.batchVaultOf(imageId);
        if (vault != address(this)) revert BatchVault__NotBatchApplet(imageId, vault);
        if (n == 0 || verifier.code.length == 0 || _verifiers[imageId][n] != address(0)) {
            revert BatchVault__BadVerifier(imageId, n, verifier);
        }
        _verifiers[imageId][n] = verifier;
        emit BatchVerifierSet(imageId, n, verifier);
    }

    /// @notice The verifier of the applet's batches of `n` devices (zero when none).
    function batchVerifierOf(bytes32 imageId, uint256 n) external view returns (address) {
        return _verifiers[imageId][n];
    }

    /// @notice The applet's current earnings root (emptyRoot before its first batch).
    function rootOf(bytes32 imageId) public view returns (uint256) {
        uint256 r = _roots[imageId];
        return r == 0 ? emptyRoot : r;
    }

    /// @notice The epoch of the applet's batch with this credits root (0: no such batch).
    function batchEpochOf(bytes32 imageId, bytes32 creditsRoot) external view returns (uint256) {
        return _batches[imageId][creditsRoot];
    }

    /// @notice Units of the applet already withdrawn for device key `deviceId`.
    function withdrawnOf(bytes32 imageId, uint256 deviceId) external view returns (uint256) {
        return _withdrawn[imageId][deviceId];
    }

    /// @notice Credits a batch: anyone may submit; the proof of the batch circuit for `n` devices is the only authority.
    /// Checks the epoch against the applet's schedule, `prevRoot` against the stored root, the proof against the
    /// credits, that every key this batch credits for the first time is registered, valid for the whole epoch and of a
    /// maker the applet pays (BatchVault__UnknownDevice, __KeyNotValid, __DeviceNotAccepted: two registry reads per key
    /// in its lifetime), then stores
    /// `newRoot` and the credits' keccak root: two storage writes whatever `n`.
    /// @param epoch Packed epoch `startMs·2^32 + lengthMs`, on the applet's schedule and ended.
    /// @param credits The batch's credits in the proof's order (slot order), CREDIT_LENGTH bytes each.
    /// @param proof `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`, b in the verifier's order.
    /// @return creditsRoot The keccak Merkle root of the credits (withdrawals and facts name the batch by it).
    function submitBatch(
        bytes32 imageId,
        uint256 n,
        uint256 epoch,
        uint256 prevRoot,
        uint256 newRoot,
        bytes calldata credits,
        bytes calldata proof
    ) external returns (bytes32 creditsRoot) {
        if (epoch >= SNARK_FIELD) revert BatchVault__ValueOutOfField(epoch);
        if (newRoot >= SNARK_FIELD) revert BatchVault__ValueOutOfField(newRoot);
        (, , bool paused, bool hasParam, uint256 param, uint256 lengthMs, uint256 genesisMs,) =
            applets.claimConfig(imageId, 0, 0);
        if (lengthMs == 0) revert BatchVault__UnknownApplet(imageId);
        if (paused) revert BatchVault__AppletPaused(imageId);
        _onSchedule(imageId, epoch, lengthMs, genesisMs);
        (address vault, uint256 fromMs) = applets.batchVaultOf(imageId);
        if (vault != address(this)) revert BatchVault__NotBatchApplet(imageId, vault);
        if ((epoch >> 32) < fromMs) revert BatchVault__EpochBeforeBatches(imageId, epoch >> 32, fromMs);
        address verifier = _verifiers[imageId][n];
        if (verifier == address(0)) revert BatchVault__NoVerifierForSize(imageId, n);
        uint256 current = rootOf(imageId);
        if (prevRoot != current) revert BatchVault__StaleRoot(imageId, prevRoot, current);
        uint256 m = credits.length / CREDIT_LENGTH;
        if (m == 0 || m > n || m * CREDIT_LENGTH != credits.length) revert BatchVault__BadCredits(credits.length, n);
        if (proof.length != PROOF_LENGTH) revert BatchVault__InvalidProof(imageId, epoch);
        uint256 r = uint256(keccak256(abi.encodePacked(imageId, epoch, prevRoot, newRoot, credits))) % SNARK_FIELD;
        uint256 s;
        uint256[] memory firsts;
        (s, creditsRoot, firsts) = _bindCredits(r, epoch, prevRoot, newRoot, credits, m);
        // a credit that makes this epoch a key's first (a new leaf, or a late credit before its first) must lie in the
        // key's window: the withdrawal checks every credited epoch, so one outside would lock the key's earnings
        for (uint256 i; i < firsts.length; ++i) _checkFirstCredit(imageId, firsts[i], epoch);
        uint256 status = _verify(verifier, proof, [r, s, param], hasParam);
        if (status == 1) revert BatchVault__InvalidProof(imageId, epoch);
        if (status == 2) revert BatchVault__VerifierOutOfGas(imageId, VERIFIER_GAS_CAP);
        _roots[imageId] = newRoot;
        _batches[imageId][creditsRoot] = epoch;
        emit BatchCredited(imageId, epoch, prevRoot, newRoot, creditsRoot, n, m, msg.sender);
    }

    /// @notice Pays the owner of device key `deviceId`'s token what the key earned and was not yet withdrawn:
    /// (cumulative − withdrawn) × the applet's current rewardPerUnit, from the device's credit in a batch (its
    /// latest pays everything; an older one pays less, never more). Anyone may call it (a keeper pushing payouts):
    /// the tokens always go to the token's owner at this moment.
    /// @param record The credit's fields in one word; `batch` its batch's credits root; `proof` its Merkle proof
    /// (see RECORD_BITS).
    /// @return reward Tokens minted to the owner.
    function withdraw(bytes32 imageId, uint256 deviceId, uint256 record, bytes32 batch, bytes32[] calldata proof)
        external
        returns (uint256 reward)
    {
        uint256 lastEpoch = _creditedEpoch(imageId, deviceId, record, batch, proof);
        // a late credit's cumulative covers the device's latest credited epoch, lag epochs after the batch's
        lastEpoch += ((record >> 240) * (lastEpoch & 0xffffffff)) << 32;
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) revert BatchVault__UnknownDevice(deviceId);
        // every credited epoch lies in the key's window (firstEpoch ≤ lastEpoch < 2^81: no overflow)
        uint256 firstEpoch = uint80(record);
        if ((firstEpoch >> 32) < fromMs || (untilMs != 0 && (lastEpoch >> 32) + (lastEpoch & 0xffffffff) > untilMs)) {
            revert BatchVault__KeyNotValid(deviceId, firstEpoch, lastEpoch, fromMs, untilMs);
        }
        (uint256 rewardPerUnit, bool paused, bool accepted) = applets.payConfig(imageId, makerId);
        if (paused) revert BatchVault__AppletPaused(imageId);
        if (!accepted) revert BatchVault__DeviceNotAccepted(imageId, tokenId, makerId);
        uint256 cumulative = uint96(record >> 144);
        uint256 done = _withdrawn[imageId][deviceId];
        if (cumulative <= done) revert BatchVault__NothingToWithdraw(imageId, deviceId, cumulative);
        uint256 units = cumulative - done;
        unchecked {
            reward = units * rewardPerUnit;
            if (reward / units != rewardPerUnit) revert BatchVault__RewardOverflow(units, rewardPerUnit);
        }
        _withdrawn[imageId][deviceId] = cumulative;
        emit EarningsWithdrawn(imageId, deviceId, owner, units);
        if (reward != 0) token.mint(owner, reward);
    }

    /// @notice Records what a batch credited device key `deviceId` for its epoch (the credit's output), from the
    /// credit's Merkle proof against the batch's credits root, when the key was the token's for the whole epoch and
    /// the applet pays its maker's devices (a batch checks neither: withdraw and recordFact do). Anyone may call it
    /// once the batch is credited; factOf then answers as PayoutVault's does.
    /// @param record The credit's fields in one word; `batch` its batch's credits root; `proof` its Merkle proof
    /// (see RECORD_BITS).
    /// @return epoch The batch's epoch. @return output The device's proven output for it.
    function recordFact(bytes32 imageId, uint256 deviceId, uint256 record, bytes32 batch, bytes32[] calldata proof)
        external
        returns (uint256 epoch, uint256 output)
    {
        epoch = _creditedEpoch(imageId, deviceId, record, batch, proof);
        output = uint64(record >> 80);
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) revert BatchVault__UnknownDevice(deviceId);
        // as a single claim: the key was the token's for the whole epoch, and the applet pays its maker's devices
        if ((epoch >> 32) < fromMs || (untilMs != 0 && (epoch >> 32) + (epoch & 0xffffffff) > untilMs)) {
            revert BatchVault__KeyNotValid(deviceId, epoch, epoch, fromMs, untilMs);
        }
        (,,,,,,, bool accepted) = applets.claimConfig(imageId, 0, makerId);
        if (!accepted) revert BatchVault__DeviceNotAccepted(imageId, tokenId, makerId);
        _facts[keccak256(abi.encode(imageId, tokenId, epoch))] = output | PROVEN;
        emit FactRecorded(imageId, tokenId, epoch, deviceId, output);
    }

    /// @notice The proven output of a batched device-epoch once recordFact recorded it (PayoutVault.factOf's shape).
    /// @param deviceId The device's token id or one of its keys.
    function factOf(bytes32 imageId, uint256 deviceId, uint256 epoch) external view returns (bool proven, uint256 output) {
        uint256 tokenId = devices.tokenOfKey(deviceId);
        if (tokenId == 0) tokenId = deviceId;
        uint256 f = _facts[keccak256(abi.encode(imageId, tokenId, epoch))];
        return (f != 0, f & ~PROVEN);
    }

    /// @dev The batch's epoch when `record` is the device's credit in batch `batch`; reverts otherwise. The leaf names
    /// the key by its whole id (a maker may register any id, so a shorter name could be shared on purpose).
    function _creditedEpoch(bytes32 imageId, uint256 deviceId, uint256 record, bytes32 batch, bytes32[] calldata proof)
        private
        view
        returns (uint256 epoch)
    {
        if (record >> RECORD_BITS != 0) revert BatchVault__CreditOutOfRange(record);
        epoch = _batches[imageId][batch];
        if (epoch == 0) revert BatchVault__NoSuchBatch(imageId, batch);
        bytes32 leaf = keccak256(
            abi.encodePacked(
                deviceId, uint64(record >> 80), uint96(record >> 144), uint80(record), uint8(record >> 240), epoch
            )
        );
        if (!MerkleProof.verifyCalldata(proof, batch, leaf)) revert BatchVault__NotInBatch(imageId, deviceId, batch);
    }

    /// @dev A batch makes `epoch` the first credited epoch of key `deviceId`: the key must be registered, the token's
    /// key for the whole epoch (as a single claim's), and of a maker the applet pays, or no withdrawal of it could ever
    /// pass (a batcher holding a new key's readings of the epoch it was registered in would lock its earnings), and a
    /// device the applet never pays would take a slot of its tree for good (a squatter's key from any maker could).
    function _checkFirstCredit(bytes32 imageId, uint256 deviceId, uint256 epoch) private view {
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) revert BatchVault__UnknownDevice(deviceId);
        uint256 startMs = epoch >> 32;
        if (startMs < fromMs || (untilMs != 0 && startMs + (epoch & 0xffffffff) > untilMs)) {
            revert BatchVault__KeyNotValid(deviceId, epoch, epoch, fromMs, untilMs);
        }
        if (!applets.acceptsMaker(imageId, makerId)) revert BatchVault__DeviceNotAccepted(imageId, tokenId, makerId);
    }

    /// @dev S over the epoch, the roots and the credits with challenge r (see the contract's notice), the keccak
    /// Merkle root of the credits' leaves, and the ids of the credits whose first epoch is this one (new leaves and
    /// late credits before a key's first). Assembly for the per-credit loop: it is most of what a batch costs per
    /// device.
    function _bindCredits(uint256 r, uint256 epoch, uint256 prevRoot, uint256 newRoot, bytes calldata credits, uint256 m)
        private
        pure
        returns (uint256 s, bytes32 root, uint256[] memory firsts)
    {
        bytes32[] memory nodes = new bytes32[](m);
        firsts = new uint256[](m);
        s = addmod(addmod(epoch, mulmod(prevRoot, r, SNARK_FIELD), SNARK_FIELD), mulmod(newRoot, mulmod(r, r, SNARK_FIELD), SNARK_FIELD), SNARK_FIELD);
        assembly ("memory-safe") {
            let p := SNARK_FIELD
            let pw := mulmod(r, r, p)
            // scratch past the free pointer: a leaf's preimage, the credit's 63 bytes then the epoch
            let buf := mload(0x40)
            let out := add(nodes, 0x20)
            let k := 0
            for { let i := 0 } lt(i, m) { i := add(i, 1) } {
                let off := add(credits.offset, mul(i, 63))
                // the id is a field element in the circuit: id + p would give the same S, so an id ≥ p is refused
                // (BatchVault__ValueOutOfField(id)), or a credit could name another key than the proof's
                let id := calldataload(off)
                if iszero(lt(id, p)) {
                    mstore(0x00, shl(224, 0x2fc7edb2))
                    mstore(0x04, id)
                    revert(0x00, 0x24)
                }
                let output := shr(192, calldataload(add(off, 32)))
                let cumulative := shr(160, calldataload(add(off, 40)))
                let first := shr(176, calldataload(add(off, 52)))
                let lag := shr(248, calldataload(add(off, 62)))
                pw := mulmod(pw, r, p)
                s := addmod(s, mulmod(id, pw, p), p)
                pw := mulmod(pw, r, p)
                s := addmod(s, mulmod(or(or(or(shl(240, lag), shl(144, cumulative)), shl(80, output)), first), pw, p), p)
                if eq(first, epoch) {
                    k := add(k, 1)
                    mstore(add(firsts, mul(k, 0x20)), id)
                }
                calldatacopy(buf, off, 63)
                mstore(add(buf, 63), epoch)
                mstore(add(out, mul(i, 0x20)), keccak256(buf, 95))
            }
            // the tree, level by level in place: sorted pairs (OpenZeppelin's MerkleProof), an odd node carried up
            for { let len := m } gt(len, 1) {} {
                let half := shr(1, len)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let a := mload(add(out, mul(i, 0x40)))
                    let b := mload(add(out, add(mul(i, 0x40), 0x20)))
                    if gt(a, b) {
                        let t := a
                        a := b
                        b := t
                    }
                    mstore(0x00, a)
                    mstore(0x20, b)
                    mstore(add(out, mul(i, 0x20)), keccak256(0x00, 0x40))
                }
                if and(len, 1) {
                    mstore(add(out, mul(half, 0x20)), mload(add(out, mul(sub(len, 1), 0x20))))
                    half := add(half, 1)
                }
                len := half
            }
            root := mload(out)
            mstore(firsts, k)
        }
    }

    function _onSchedule(bytes32 imageId, uint256 epoch, uint256 lengthMs, uint256 genesisMs) private view {
        uint256 startMs = epoch >> 32;
        uint256 len = epoch & 0xffffffff;
        if (len != lengthMs) revert BatchVault__WrongEpochLength(imageId, len, lengthMs);
        if (startMs < genesisMs) revert BatchVault__EpochBeforeGenesis(imageId, startMs, genesisMs);
        if ((startMs - genesisMs) % lengthMs != 0) {
            revert BatchVault__EpochMisaligned(imageId, startMs, genesisMs, lengthMs);
        }
        uint256 nowMs = block.timestamp * 1000;
        if (startMs + lengthMs > nowMs) revert BatchVault__EpochNotEnded(imageId, startMs + lengthMs, nowMs);
    }

    /// @dev As PayoutVault._verify: the snarkjs verifier called with capped gas; a call that used nearly all of it
    /// is out of gas (2) when the proof's points lie on the curve, an invalid proof (1) otherwise.
    function _verify(address verifier, bytes calldata proof, uint256[3] memory signals, bool hasParam)
        private
        view
        returns (uint256 status)
    {
        bytes4 sel = hasParam ? VERIFY3 : VERIFY2;
        uint256 count = hasParam ? 3 : 2;
        uint256 len = 260 + 32 * count;
        uint256 g = gasleft();
        uint256 forwarded = g > VERIFY_RESERVE ? g - VERIFY_RESERVE : 0;
        if (forwarded > VERIFIER_GAS_CAP) forwarded = VERIFIER_GAS_CAP;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, sel)
            calldatacopy(add(p, 4), proof.offset, 256)
            for { let i := 0 } lt(i, mul(count, 32)) { i := add(i, 32) } { mstore(add(add(p, 260), i), mload(add(signals, i))) }
            ok := staticcall(forwarded, verifier, p, len, 0, 0x20)
            ok := and(ok, and(iszero(lt(returndatasize(), 0x20)), eq(mload(0), 1)))
        }
        if (ok) return 0;
        if (g - gasleft() + forwarded / 16 + 3000 < forwarded) return 1;
        uint256[8] memory w;
        for (uint256 i; i < 8; ++i) w[i] = uint256(bytes32(proof[32 * i:32 + 32 * i]));
        return Groth16Points.onCurve(w) ? 2 : 1;
    }
}
