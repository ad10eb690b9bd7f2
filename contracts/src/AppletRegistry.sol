// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title AppletRegistry
/// @notice imageId (sha256 of an applet's Wasm) → verifiers, reward per output unit, epoch schedule, owner, paused.
/// @dev A claim proof covers a segment of k readings, and each k has its own generated Groth16 verifier, so an
/// applet registers one verifier per size k (PayoutVault calls it directly: a routing contract in between would
/// cost a cold call). A new applet version is a new imageId; old ones stay registered and verifiable, and the
/// verifiers of an imageId never change. Registration and reward changes need REGISTRAR_ROLE because rewards mint a shared
/// token: an open registry would let anyone pair an always-true verifier with a huge reward.
/// Each applet has an epoch schedule fixed at registration (`epochLengthMs`, `genesisMs`): PayoutVault pays only
/// epochs on it, because a proof holds for any window around the same readings and a claimer free to pick the window
/// would be paid again and again for them. The genesis is a multiple of the length, so the schedule's epochs are the
/// ones device-sdk's `epochOf` computes (aligned to multiples of their length).
contract AppletRegistry is AccessControl {
    /// @notice Role allowed to register applets and change their rewards.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Slot 0 holds everything PayoutVault needs for a claim without a reducer parameter (besides the verifier);
    /// a registered applet has a nonzero epochLengthMs. Lengths fit packed epochs (< 2^32), starts are < 2^48.
    /// Which devices it pays: any device (`anyDevice`), or devices of accepted makers: makers 1–64 as bits of
    /// `makerBits` (bit i-1 for maker i, so the check costs no SLOAD), higher maker ids in `_acceptedMakers`.
    struct Applet {
        uint80 rewardPerUnit;
        bool paused;
        bool hasParam;
        uint32 epochLengthMs;
        uint48 genesisMs;
        bool anyDevice;
        uint64 makerBits;
        /// @dev Has a batch vault (setBatchVault): claimConfig names no single-claim verifier, PayoutVault looks closer.
        bool batched;
        address owner;
        uint256 param;
    }

    mapping(bytes32 imageId => Applet) private _applets;
    mapping(bytes32 imageId => mapping(uint256 k => address verifier)) private _verifiers;
    mapping(bytes32 imageId => mapping(uint32 makerId => bool)) private _acceptedMakers;
    /// @dev An applet's batch vault and the start of its first batch-only epoch (ms), in one slot.
    struct Batches {
        address vault;
        uint48 fromMs;
    }

    mapping(bytes32 imageId => Batches) private _batches;
    /// @dev A stateful applet's empty-state commitment (zero: stateless), set once by setStateful.
    mapping(bytes32 imageId => uint256 emptyState) private _emptyStates;

    /// @notice Epochs of the applet starting at `fromMs` or later are credited by batches in `vault` only.
    event AppletBatchVaultSet(bytes32 indexed imageId, address indexed vault, uint256 fromMs);
    /// @notice An applet version was registered.
    event AppletRegistered(
        bytes32 indexed imageId, address indexed owner, uint256[] ks, address[] verifiers, uint256 rewardPerUnit, bool hasParam, uint256 param
    );
    /// @notice The applet's epoch schedule was fixed: epochs are [genesisMs + i·epochLengthMs, + epochLengthMs), i ≥ 0.
    event AppletScheduleSet(bytes32 indexed imageId, uint256 epochLengthMs, uint256 genesisMs);
    /// @notice An applet was paused (no claims paid) or resumed.
    event AppletPausedSet(bytes32 indexed imageId, bool paused, address indexed by);
    /// @notice The reward per output unit of an applet changed.
    event AppletRewardSet(bytes32 indexed imageId, uint256 rewardPerUnit);
    /// @notice The applet now pays any device (`anyDevice`), or devices of `makers` were accepted (true) or dropped.
    event AppletDevicesSet(bytes32 indexed imageId, bool anyDevice, uint32[] makers, bool accepted);
    /// @notice The applet carries state between epochs (PayoutVault.claimStateful): `stateKeys` keys, and a device's
    /// first claim starts from `emptyState`.
    event AppletStatefulSet(bytes32 indexed imageId, uint256 stateKeys, uint256 emptyState);
    /// @notice Ownership of an applet moved from `from` to `to`.
    event AppletTransferred(bytes32 indexed imageId, address indexed from, address indexed to);

    /// @notice This imageId is already registered; a new applet version has a new imageId.
    error AppletRegistry__AlreadyRegistered(bytes32 imageId);
    /// @notice No applet with this imageId is registered.
    error AppletRegistry__UnknownApplet(bytes32 imageId);
    /// @notice Only the applet's owner (or a registrar) may do this.
    error AppletRegistry__NotAppletOwner(bytes32 imageId, address caller);
    /// @notice Each verifier must be a contract address.
    error AppletRegistry__InvalidVerifier(address verifier);
    /// @notice Give between one and eight (k, verifier) pairs, one verifier per distinct nonzero size k.
    error AppletRegistry__BadSizes(uint256 ks, uint256 verifiers);
    /// @notice The owner must be a nonzero address.
    error AppletRegistry__ZeroOwner();
    /// @notice rewardPerUnit must fit in 80 bits.
    error AppletRegistry__RewardTooLarge(uint256 rewardPerUnit);
    /// @notice The reducer parameter is a public signal, so it must lie below the BN254 scalar field.
    error AppletRegistry__ParamOutOfField(uint256 param);
    /// @notice An epoch length must be in (0, 2^32) ms, as packed epochs require.
    error AppletRegistry__BadEpochLength(uint256 epochLengthMs);
    /// @notice An explicit genesis must be a multiple of the epoch length and below 2^48 ms.
    error AppletRegistry__BadGenesis(uint256 genesisMs, uint256 epochLengthMs);
    /// @notice Maker ids start at 1 (self-registered devices are paid only by applets open to any device).
    error AppletRegistry__BadMaker(uint32 makerId);
    /// @notice The applet is already in the requested paused state.
    error AppletRegistry__PausedUnchanged(bytes32 imageId, bool paused);
    /// @notice The applet already has a batch vault: its earnings tree lives there, so it never moves.
    error AppletRegistry__BatchVaultAlreadySet(bytes32 imageId, address vault);
    /// @notice A stateful applet's circuit commits to between 1 and 8 state keys.
    error AppletRegistry__BadStateKeys(uint256 stateKeys);
    /// @notice The applet is already stateful: its empty state never changes.
    error AppletRegistry__AlreadyStateful(bytes32 imageId);
    /// @notice The applet keeps state between epochs: batches credit devices with no state check, so a stateful
    /// applet is paid by PayoutVault.claimStateful only and never gets a batch vault.
    error AppletRegistry__StatefulApplet(bytes32 imageId);
    /// @notice The applet is credited in batches by `vault`, which checks no state: it cannot become stateful.
    error AppletRegistry__BatchedApplet(bytes32 imageId, address vault);

    /// @param admin Account holding DEFAULT_ADMIN_ROLE and REGISTRAR_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice Registers an applet version.
    /// @param imageId sha256 of the applet's Wasm bytes.
    /// @param ks Segment sizes the applet's claims may be proven with (e.g. 16, 64, 256).
    /// @param verifiers Generated Groth16 verifier for each size (4 public signals, 5 with a parameter).
    /// @param rewardPerUnit Tokens minted per unit of proven output (fits in 80 bits).
    /// @param owner Account that may pause the applet and transfer it.
    /// @param hasParam Whether the reducer has a parameter (count_above threshold), appended to the public signals.
    /// @param param The reducer parameter (ignored when hasParam is false).
    /// @param epochLengthMs Length of every epoch the applet's claims may cover, in (0, 2^32) ms.
    /// @param anyDevice Pay any registered device, self-registered ones included (an open network), instead of only
    /// devices of accepted makers.
    /// @param makers Maker ids (MakerRegistry) whose devices the applet pays.
    /// @param genesisMs Start of the first payable epoch, a multiple of epochLengthMs; 0 means this block's time
    /// rounded down to a multiple of the length (no epoch before the applet existed is paid). A registrar may pass
    /// an earlier genesis to pay readings from before registration (a devnet's backlog); it never changes later.
    function registerApplet(
        bytes32 imageId,
        uint256[] calldata ks,
        address[] calldata verifiers,
        uint256 rewardPerUnit,
        address owner,
        bool hasParam,
        uint256 param,
        uint256 epochLengthMs,
        uint256 genesisMs,
        bool anyDevice,
        uint32[] calldata makers
    ) external onlyRole(REGISTRAR_ROLE) {
        if (_applets[imageId].owner != address(0)) revert AppletRegistry__AlreadyRegistered(imageId);
        if (ks.length == 0 || ks.length > 8 || ks.length != verifiers.length) {
            revert AppletRegistry__BadSizes(ks.length, verifiers.length);
        }
        if (owner == address(0)) revert AppletRegistry__ZeroOwner();
        if (rewardPerUnit > type(uint80).max) revert AppletRegistry__RewardTooLarge(rewardPerUnit);
        if (!hasParam) param = 0;
        if (param >= SNARK_FIELD) revert AppletRegistry__ParamOutOfField(param);
        if (epochLengthMs == 0 || epochLengthMs > type(uint32).max) revert AppletRegistry__BadEpochLength(epochLengthMs);
        if (genesisMs == 0) genesisMs = block.timestamp * 1000 - (block.timestamp * 1000) % epochLengthMs;
        if (genesisMs % epochLengthMs != 0 || genesisMs > type(uint48).max) revert AppletRegistry__BadGenesis(genesisMs, epochLengthMs);
        for (uint256 i; i < ks.length; ++i) {
            if (verifiers[i].code.length == 0) revert AppletRegistry__InvalidVerifier(verifiers[i]);
            if (ks[i] == 0 || _verifiers[imageId][ks[i]] != address(0)) revert AppletRegistry__BadSizes(ks.length, verifiers.length);
            _verifiers[imageId][ks[i]] = verifiers[i];
        }
        _applets[imageId] = Applet(
            uint80(rewardPerUnit), false, hasParam, uint32(epochLengthMs), uint48(genesisMs), anyDevice, 0, false, owner, param
        );
        emit AppletRegistered(imageId, owner, ks, verifiers, rewardPerUnit, hasParam, param);
        emit AppletScheduleSet(imageId, epochLengthMs, genesisMs);
        _setMakers(imageId, _applets[imageId], makers, true);
        emit AppletDevicesSet(imageId, anyDevice, makers, true);
    }

    /// @notice Chooses which devices the applet pays: any device (`anyDevice`), and/or accepts (`accepted`) or drops
    /// the devices of `makers`. Owner or registrar.
    function setAppletDevices(bytes32 imageId, bool anyDevice, uint32[] calldata makers, bool accepted) external {
        Applet storage app = _known(imageId);
        if (msg.sender != app.owner && !hasRole(REGISTRAR_ROLE, msg.sender)) {
            revert AppletRegistry__NotAppletOwner(imageId, msg.sender);
        }
        app.anyDevice = anyDevice;
        _setMakers(imageId, app, makers, accepted);
        emit AppletDevicesSet(imageId, anyDevice, makers, accepted);
    }

    /// @notice Whether the applet pays devices of maker `makerId` (0: self-registered devices).
    function acceptsMaker(bytes32 imageId, uint32 makerId) public view returns (bool) {
        return _accepts(imageId, _applets[imageId], makerId);
    }

    /// @dev acceptsMaker from the applet's slot 0 (anyDevice, makerBits): a mapping read only for makers past 64.
    function _accepts(bytes32 imageId, Applet storage app, uint32 makerId) private view returns (bool) {
        if (app.anyDevice) return true;
        if (makerId == 0) return false;
        if (makerId <= 64) return app.makerBits & (uint64(1) << (makerId - 1)) != 0;
        return _acceptedMakers[imageId][makerId];
    }

    function _setMakers(bytes32 imageId, Applet storage app, uint32[] calldata makers, bool accepted) private {
        uint64 bits = app.makerBits;
        for (uint256 i; i < makers.length; ++i) {
            uint32 m = makers[i];
            if (m == 0) revert AppletRegistry__BadMaker(m);
            if (m <= 64) {
                uint64 bit = uint64(1) << (m - 1);
                bits = accepted ? bits | bit : bits & ~bit;
            } else {
                _acceptedMakers[imageId][m] = accepted;
            }
        }
        app.makerBits = bits;
    }

    /// @notice Pauses (no claims are paid) or resumes an applet. Owner or registrar only.
    function setPaused(bytes32 imageId, bool paused) external {
        Applet storage app = _known(imageId);
        if (msg.sender != app.owner && !hasRole(REGISTRAR_ROLE, msg.sender)) {
            revert AppletRegistry__NotAppletOwner(imageId, msg.sender);
        }
        if (app.paused == paused) revert AppletRegistry__PausedUnchanged(imageId, paused);
        app.paused = paused;
        emit AppletPausedSet(imageId, paused, msg.sender);
    }

    /// @notice Changes the reward per output unit. Registrar only (rewards mint a shared token).
    function setRewardPerUnit(bytes32 imageId, uint256 rewardPerUnit) external onlyRole(REGISTRAR_ROLE) {
        Applet storage app = _known(imageId);
        if (rewardPerUnit > type(uint80).max) revert AppletRegistry__RewardTooLarge(rewardPerUnit);
        app.rewardPerUnit = uint80(rewardPerUnit);
        emit AppletRewardSet(imageId, rewardPerUnit);
    }

    /// @notice Switches an applet to batch claims (issue 26): `vault` (a BatchVault) credits every epoch from the one
    /// running now on, and PayoutVault refuses single claims of those epochs; earlier epochs stay single-claim only
    /// (they may have been paid already; the running one has not ended, so it cannot have been). A device-epoch is
    /// thus paid by one path only. One way: the vault's earnings tree holds every device's cumulative credit.
    /// Registrar only.
    function setBatchVault(bytes32 imageId, address vault) external onlyRole(REGISTRAR_ROLE) {
        Applet storage app = _known(imageId);
        if (_batches[imageId].vault != address(0)) {
            revert AppletRegistry__BatchVaultAlreadySet(imageId, _batches[imageId].vault);
        }
        if (_emptyStates[imageId] != 0) revert AppletRegistry__StatefulApplet(imageId);
        if (vault.code.length == 0) revert AppletRegistry__InvalidVerifier(vault);
        uint256 nowMs = block.timestamp * 1000;
        uint256 fromMs = app.genesisMs;
        if (nowMs > fromMs) fromMs = nowMs - (nowMs - fromMs) % app.epochLengthMs;
        _batches[imageId] = Batches(vault, uint48(fromMs));
        app.batched = true;
        emit AppletBatchVaultSet(imageId, vault, fromMs);
    }

    /// @notice Marks an applet stateful (issue 18): its verifiers take stateIn and stateOut after the other public
    /// signals, PayoutVault pays it through claimStateful only, and each device's first claim starts from the empty
    /// state of `stateKeys` keys (emptyStateFor). Once, registrar only: the empty state is part of the applet's rule.
    /// Refused for an applet with a batch vault (setBatchVault refuses a stateful one): batches check no state.
    function setStateful(bytes32 imageId, uint256 stateKeys) external onlyRole(REGISTRAR_ROLE) {
        _known(imageId);
        if (_emptyStates[imageId] != 0) revert AppletRegistry__AlreadyStateful(imageId);
        address batchVault = _batches[imageId].vault;
        if (batchVault != address(0)) revert AppletRegistry__BatchedApplet(imageId, batchVault);
        uint256 empty = emptyStateFor(stateKeys);
        _emptyStates[imageId] = empty;
        emit AppletStatefulSet(imageId, stateKeys, empty);
    }

    /// @notice A stateful applet's empty-state commitment; zero for a stateless applet.
    function emptyStateOf(bytes32 imageId) external view returns (uint256) {
        return _emptyStates[imageId];
    }

    /// @notice The compiler's commitment to an empty state of M keys (circuits/compile/state-commit.ts): circomlib's
    /// Poseidon over 2M zeros (each key absent, value 0). Constants, so no Poseidon runs on chain; a test recomputes
    /// them. Different M give different arities of Poseidon, so no circuit of M keys opens another M's empty state.
    function emptyStateFor(uint256 stateKeys) public pure returns (uint256) {
        if (stateKeys == 1) return 14744269619966411208579211824598458697587494354926760081771325075741142829156;
        if (stateKeys == 2) return 2351654555892372227640888372176282444150254868378439619268573230312091195718;
        if (stateKeys == 3) return 14408838593220040598588012778523101864903887657864399481915450526643617223637;
        if (stateKeys == 4) return 1524321216038799095937469147836866648978083754965002674906449126183454401066;
        if (stateKeys == 5) return 8188888863647261336666654061521591645846533251798372526123567331385400506959;
        if (stateKeys == 6) return 9360644637339281731404031769602981527812191049496204724644500187104347980883;
        if (stateKeys == 7) return 1169582573301325175856572929862091749915338129032846845488950917555513373814;
        if (stateKeys == 8) return 6961025786505490270790487869888725702980364259855350215456397845563605340881;
        revert AppletRegistry__BadStateKeys(stateKeys);
    }

    /// @notice The BatchVault that credits the applet (zero: single claims only) and the start (ms) of the first
    /// epoch it credits; single claims are paid for epochs that start before it only.
    function batchVaultOf(bytes32 imageId) external view returns (address vault, uint256 fromMs) {
        Batches storage b = _batches[imageId];
        return (b.vault, b.fromMs);
    }

    /// @notice Moves an applet to a new owner. Owner only.
    function transferApplet(bytes32 imageId, address to) external {
        Applet storage app = _known(imageId);
        if (msg.sender != app.owner) revert AppletRegistry__NotAppletOwner(imageId, msg.sender);
        if (to == address(0)) revert AppletRegistry__ZeroOwner();
        app.owner = to;
        emit AppletTransferred(imageId, msg.sender, to);
    }

    /// @notice Everything stored for an applet (owner is zero when unknown).
    function appletOf(bytes32 imageId) external view returns (Applet memory) {
        return _applets[imageId];
    }

    /// @notice The verifier of an applet's proofs over k readings (zero when none).
    function verifierOf(bytes32 imageId, uint256 k) external view returns (address) {
        return _verifiers[imageId][k];
    }

    /// @notice What PayoutVault needs to pay a claim proven over k readings of a device of maker `makerId`: two
    /// SLOADs (three with a parameter, four for a maker id above 64 on an applet not open to any device).
    /// @return verifier Zero when the applet is unknown, has no verifier for k, or is paid by batches.
    /// @return rewardPerUnit Tokens per output unit.
    /// @return paused Whether claims are paused.
    /// @return hasParam Whether the reducer parameter is a public signal.
    /// @return param The reducer parameter (read only when hasParam).
    /// @return epochLengthMs The schedule's epoch length (ms); 0 when no applet has this imageId.
    /// @return genesisMs The schedule's first epoch start (ms).
    /// @return accepted Whether the applet pays devices of this maker.
    function claimConfig(bytes32 imageId, uint256 k, uint32 makerId)
        external
        view
        returns (
            address verifier,
            uint256 rewardPerUnit,
            bool paused,
            bool hasParam,
            uint256 param,
            uint256 epochLengthMs,
            uint256 genesisMs,
            bool accepted
        )
    {
        Applet storage app = _applets[imageId];
        // epochLengthMs is nonzero for every registered applet and shares slot 0: it tells a known applet for free
        (epochLengthMs, genesisMs) = (app.epochLengthMs, app.genesisMs);
        (rewardPerUnit, paused, hasParam) = (app.rewardPerUnit, app.paused, app.hasParam);
        if (hasParam) param = app.param;
        // a batched applet has no single-claim verifier (the flag shares slot 0: no extra SLOAD)
        if (!app.batched) verifier = _verifiers[imageId][k];
        accepted = _accepts(imageId, app, makerId);
    }

    /// @notice What a payout of the applet to a device of maker `makerId` needs, from one storage slot: its reward per
    /// unit, whether it is paused, and whether it pays that maker's devices (claimConfig without the claim's fields:
    /// a batch withdrawal reads only these).
    function payConfig(bytes32 imageId, uint32 makerId)
        external
        view
        returns (uint256 rewardPerUnit, bool paused, bool accepted)
    {
        Applet storage app = _applets[imageId];
        (rewardPerUnit, paused) = (app.rewardPerUnit, app.paused);
        accepted = _accepts(imageId, app, makerId);
    }

    function _known(bytes32 imageId) private view returns (Applet storage app) {
        app = _applets[imageId];
        if (app.owner == address(0)) revert AppletRegistry__UnknownApplet(imageId);
    }
}
