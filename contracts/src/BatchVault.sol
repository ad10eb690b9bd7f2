// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {DeviceRegistry} from "./DeviceRegistry.sol";
import {AppletRegistry} from "./AppletRegistry.sol";
import {Groth16Points} from "./Groth16Points.sol";
import {IRewardMinter} from "./interfaces/IRewardMinter.sol";

/// @notice circomlib's Poseidon(2) as deployed EVM code: poseidon-solidity's PoseidonT3 library (npm
/// poseidon-solidity, ~21k gas a hash against circomlibjs poseidon_gencontract's ~32k), called as a contract.
interface IPoseidon2 {
    function hash(uint256[2] memory input) external pure returns (uint256);
}

/// @notice circomlib's Poseidon(4): poseidon-solidity's PoseidonT5 library, called as a contract.
interface IPoseidon4 {
    function hash(uint256[4] memory input) external pure returns (uint256);
}

/// @title BatchVault
/// @notice Aggregated claims (issue 26): one Groth16 proof credits N devices of one applet for one epoch. Per
/// applet the vault stores only the root of an earnings tree (circuits/batch/tree.ts): one leaf per device key at
/// slot `deviceId mod 2^depth`, Poseidon(deviceId, cumulative units, first epoch, last epoch). A batch proof moves
/// the root from `prevRoot` to `newRoot`; each device in it proved its signed readings and the applet's output
/// exactly as a single claim does, and may be credited only for an epoch after its leaf's last one.
/// Anyone may submit a batch: the proof is the only authority. Owners withdraw a device's cumulative units minus
/// what was already withdrawn, with a Merkle proof against the current root, whenever they like.
/// @dev The single-claim path (PayoutVault) and this one never pay the same device-epoch: AppletRegistry.setBatchVault
/// splits the applet's schedule at the epoch running at the switch; this vault credits that epoch and later ones
/// only, PayoutVault earlier ones only (BatchVault__EpochBeforeBatches, PayoutVault__BatchedEpoch).
contract BatchVault is ReentrancyGuard {
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Length of a batch proof: abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c), b in verifier order.
    uint256 public constant PROOF_LENGTH = 256;
    /// @notice Most gas a batch verifier may use.
    uint256 public constant VERIFIER_GAS_CAP = 1_000_000;
    uint256 internal constant VERIFY_RESERVE = 20_000;
    bytes4 internal constant VERIFY4 = 0x5fe8c13b;
    bytes4 internal constant VERIFY5 = 0x34baeab9;

    /// @notice Registry of devices, their owners, makers and key windows.
    DeviceRegistry public immutable devices;
    /// @notice Registry of applets, their schedules, rewards and batch vaults.
    AppletRegistry public immutable applets;
    /// @notice Token minted at withdrawal (this vault must hold its minter role).
    IRewardMinter public immutable token;
    IPoseidon2 public immutable poseidon2;
    IPoseidon4 public immutable poseidon4;
    /// @notice Depth of every applet's earnings tree (the batch circuits' D).
    uint256 public immutable depth;
    /// @notice Root of the empty tree of `depth` (every applet starts from it).
    uint256 public immutable emptyRoot;

    mapping(bytes32 imageId => mapping(uint256 n => address verifier)) private _verifiers;
    /// @dev 0 means the empty tree (emptyRoot): an applet's first batch starts there.
    mapping(bytes32 imageId => uint256 root) private _roots;
    mapping(bytes32 imageId => mapping(uint256 deviceId => uint256 units)) private _withdrawn;
    /// @dev keccak256(prevRoot, epoch) of the batch that moved the applet's root to `newRoot` (roots never repeat:
    /// every batch raises a leaf's lastEpoch), so a fact can be proven against the two roots of its batch.
    mapping(bytes32 imageId => mapping(uint256 newRoot => bytes32 batch)) private _batches;
    /// @dev keccak256(imageId, tokenId, epoch) → output | PROVEN, as PayoutVault's facts.
    mapping(bytes32 fact => uint256 value) private _facts;
    uint256 internal constant PROVEN = 1 << 255;

    /// @notice A leaf of the earnings tree with its path (siblings from the leaf up). An empty slot (a device's first
    /// credit) is all zeros: its leaf is 0, not a hash.
    struct LeafProof {
        uint256 cumulative;
        uint256 firstEpoch;
        uint256 lastEpoch;
        uint256[] siblings;
    }

    /// @notice The verifier of the applet's batches of `n` devices was set.
    event BatchVerifierSet(bytes32 indexed imageId, uint256 indexed n, address verifier);
    /// @notice A batch of up to `n` devices was credited for `epoch`: the applet's root moved to `newRoot`.
    event BatchCredited(
        bytes32 indexed imageId, uint256 indexed epoch, uint256 prevRoot, uint256 newRoot, uint256 n, address submitter
    );
    /// @notice `units` of device key `deviceId` (token `tokenId`) were paid as `reward` to the token's owner.
    event EarningsWithdrawn(
        bytes32 indexed imageId, uint256 indexed deviceId, uint256 tokenId, address owner, uint256 units, uint256 reward
    );

    /// @notice Batch (`prevRoot` → `newRoot`) credited device key `deviceId` (token `tokenId`) `output` for `epoch`:
    /// a fact other contracts read with factOf.
    event FactRecorded(bytes32 indexed imageId, uint256 indexed tokenId, uint256 indexed epoch, uint256 deviceId, uint256 output);

    /// @notice No batch of this applet moved the root from `prevRoot` to `newRoot` for `epoch`.
    error BatchVault__NoSuchBatch(bytes32 imageId, uint256 epoch, uint256 prevRoot, uint256 newRoot);
    /// @notice The leaves do not show a credit of the device in that batch (its leaf after the batch does not end at
    /// `epoch`, or its leaf before already did).
    error BatchVault__NotCreditedInBatch(bytes32 imageId, uint256 deviceId, uint256 epoch);
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
    /// @notice The proof does not verify for (imageId, epoch, prevRoot, newRoot[, param]).
    error BatchVault__InvalidProof(bytes32 imageId, uint256 epoch);
    /// @notice The verifier used up the gas it was given: resend with a higher gas limit.
    error BatchVault__VerifierOutOfGas(bytes32 imageId, uint256 gasForwarded);
    /// @notice A withdrawal needs `depth` siblings.
    error BatchVault__BadPathLength(uint256 length, uint256 depth);
    /// @notice The leaf and its path do not lead to the applet's current root: a tampered or outdated leaf.
    error BatchVault__LeafNotInRoot(bytes32 imageId, uint256 deviceId, uint256 computedRoot, uint256 currentRoot);
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
    /// @param poseidon2_ circomlib Poseidon(2) contract. @param poseidon4_ circomlib Poseidon(4) contract.
    /// @param depth_ Earnings tree depth (the batch circuits' D).
    constructor(
        DeviceRegistry devices_,
        AppletRegistry applets_,
        IRewardMinter token_,
        IPoseidon2 poseidon2_,
        IPoseidon4 poseidon4_,
        uint256 depth_
    ) {
        (devices, applets, token, poseidon2, poseidon4, depth) = (devices_, applets_, token_, poseidon2_, poseidon4_, depth_);
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

    /// @notice Units of the applet already withdrawn for device key `deviceId`.
    function withdrawnOf(bytes32 imageId, uint256 deviceId) external view returns (uint256) {
        return _withdrawn[imageId][deviceId];
    }

    /// @notice Credits a batch: anyone may submit; the proof of the batch circuit for `n` devices is the only authority.
    /// Checks the epoch against the applet's schedule, `prevRoot` against the stored root, the proof, then stores
    /// `newRoot`: one storage write whatever `n`.
    /// @param epoch Packed epoch `startMs·2^32 + lengthMs`, on the applet's schedule and ended.
    /// @param proof `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`, b in the verifier's order.
    function submitBatch(bytes32 imageId, uint256 n, uint256 epoch, uint256 prevRoot, uint256 newRoot, bytes calldata proof)
        external
        nonReentrant
    {
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
        if (proof.length != PROOF_LENGTH) revert BatchVault__InvalidProof(imageId, epoch);
        uint256 status = _verify(verifier, proof, [uint256(imageId) % SNARK_FIELD, epoch, prevRoot, newRoot, param], hasParam);
        if (status == 1) revert BatchVault__InvalidProof(imageId, epoch);
        if (status == 2) revert BatchVault__VerifierOutOfGas(imageId, VERIFIER_GAS_CAP);
        _roots[imageId] = newRoot;
        _batches[imageId][newRoot] = keccak256(abi.encode(prevRoot, epoch));
        emit BatchCredited(imageId, epoch, prevRoot, newRoot, n, msg.sender);
    }

    /// @notice Pays the owner of device key `deviceId`'s token what the key earned and was not yet withdrawn:
    /// (cumulative − withdrawn) × the applet's current rewardPerUnit. Anyone may call it (a keeper pushing
    /// payouts): the tokens always go to the token's owner at this moment.
    /// @param cumulative The leaf's cumulative units. @param firstEpoch The leaf's first credited epoch.
    /// @param lastEpoch The leaf's last credited epoch. @param siblings The leaf's path, from the leaf up.
    /// @return reward Tokens minted to the owner.
    function withdraw(
        bytes32 imageId,
        uint256 deviceId,
        uint256 cumulative,
        uint256 firstEpoch,
        uint256 lastEpoch,
        uint256[] calldata siblings
    ) external nonReentrant returns (uint256 reward) {
        if (siblings.length != depth) revert BatchVault__BadPathLength(siblings.length, depth);
        uint256 h = _pathRoot(poseidon4.hash([deviceId, cumulative, firstEpoch, lastEpoch]), deviceId, siblings);
        uint256 current = rootOf(imageId);
        if (h != current) revert BatchVault__LeafNotInRoot(imageId, deviceId, h, current);
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) revert BatchVault__UnknownDevice(deviceId);
        // every credited epoch lies in the key's window (firstEpoch ≤ lastEpoch < 2^80: no overflow)
        if ((firstEpoch >> 32) < fromMs || (untilMs != 0 && (lastEpoch >> 32) + (lastEpoch & 0xffffffff) > untilMs)) {
            revert BatchVault__KeyNotValid(deviceId, firstEpoch, lastEpoch, fromMs, untilMs);
        }
        (, uint256 rewardPerUnit, bool paused,,,,, bool accepted) = applets.claimConfig(imageId, 0, makerId);
        if (paused) revert BatchVault__AppletPaused(imageId);
        if (!accepted) revert BatchVault__DeviceNotAccepted(imageId, tokenId, makerId);
        uint256 done = _withdrawn[imageId][deviceId];
        if (cumulative <= done) revert BatchVault__NothingToWithdraw(imageId, deviceId, cumulative);
        uint256 units = cumulative - done;
        unchecked {
            reward = units * rewardPerUnit;
            if (reward / units != rewardPerUnit) revert BatchVault__RewardOverflow(units, rewardPerUnit);
        }
        _withdrawn[imageId][deviceId] = cumulative;
        emit EarningsWithdrawn(imageId, deviceId, tokenId, owner, units, reward);
        if (reward != 0) token.mint(owner, reward);
    }

    /// @notice Records what the batch (`prevRoot` → `newRoot`, credited for `epoch`) credited device key `deviceId`:
    /// its leaf before the batch under `prevRoot` (last credit before `epoch`, or the empty slot) and after it under
    /// `newRoot` (last credit `epoch`) prove output = cumulative after − cumulative before. Anyone may call it once
    /// the batch is credited, whatever the roots since; factOf then answers as PayoutVault's does. Costs two paths.
    /// @return output The device's proven output for `epoch`.
    function recordFact(
        bytes32 imageId,
        uint256 deviceId,
        uint256 epoch,
        uint256 prevRoot,
        uint256 newRoot,
        LeafProof calldata before,
        LeafProof calldata credited
    ) external returns (uint256 output) {
        bytes32 b = _batches[imageId][newRoot];
        if (b == 0 || b != keccak256(abi.encode(prevRoot, epoch))) {
            revert BatchVault__NoSuchBatch(imageId, epoch, prevRoot, newRoot);
        }
        if (credited.lastEpoch != epoch || before.lastEpoch >= epoch) {
            revert BatchVault__NotCreditedInBatch(imageId, deviceId, epoch);
        }
        bool empty = before.cumulative == 0 && before.firstEpoch == 0 && before.lastEpoch == 0;
        _checkedRoot(imageId, deviceId, empty ? 0 : _leaf(deviceId, before), before.siblings, prevRoot);
        _checkedRoot(imageId, deviceId, _leaf(deviceId, credited), credited.siblings, newRoot);
        output = credited.cumulative - before.cumulative;
        uint256 tokenId = devices.tokenOfKey(deviceId);
        if (tokenId == 0) revert BatchVault__UnknownDevice(deviceId);
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

    function _leaf(uint256 deviceId, LeafProof calldata l) private view returns (uint256) {
        return poseidon4.hash([deviceId, l.cumulative, l.firstEpoch, l.lastEpoch]);
    }

    function _checkedRoot(bytes32 imageId, uint256 deviceId, uint256 leaf, uint256[] calldata siblings, uint256 root)
        private
        view
    {
        if (siblings.length != depth) revert BatchVault__BadPathLength(siblings.length, depth);
        uint256 h = _pathRoot(leaf, deviceId, siblings);
        if (h != root) revert BatchVault__LeafNotInRoot(imageId, deviceId, h, root);
    }

    /// @dev The root over a leaf's path: one PoseidonT3 hash per level.
    function _pathRoot(uint256 leaf, uint256 idx, uint256[] calldata siblings) private view returns (uint256 h) {
        h = leaf;
        for (uint256 i; i < siblings.length; ++i) {
            h = idx & 1 == 0 ? poseidon2.hash([h, siblings[i]]) : poseidon2.hash([siblings[i], h]);
            idx >>= 1;
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
    function _verify(address verifier, bytes calldata proof, uint256[5] memory signals, bool hasParam)
        private
        view
        returns (uint256 status)
    {
        bytes4 sel = hasParam ? VERIFY5 : VERIFY4;
        uint256 len = hasParam ? 420 : 388;
        uint256 g = gasleft();
        uint256 forwarded = g > VERIFY_RESERVE ? g - VERIFY_RESERVE : 0;
        if (forwarded > VERIFIER_GAS_CAP) forwarded = VERIFIER_GAS_CAP;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, sel)
            calldatacopy(add(p, 4), proof.offset, 256)
            for { let i := 0 } lt(i, 160) { i := add(i, 32) } { mstore(add(add(p, 260), i), mload(add(signals, i))) }
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
