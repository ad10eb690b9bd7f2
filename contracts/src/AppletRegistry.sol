// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IClaimVerifier} from "./interfaces/IClaimVerifier.sol";

/// @title AppletRegistry
/// @notice imageId (sha256 of an applet's Wasm) → verifier, reward per output unit, owner, paused.
/// @dev A new applet version is a new imageId; old ones stay registered and verifiable. The verifier of an
/// imageId never changes. Registration and reward changes need REGISTRAR_ROLE because rewards mint a shared
/// token: an open registry would let anyone pair an always-true verifier with a huge reward.
contract AppletRegistry is AccessControl {
    /// @notice Role allowed to register applets and change their rewards.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Slot 0 holds everything PayoutVault needs for a claim without a reducer parameter.
    struct Applet {
        IClaimVerifier verifier;
        uint80 rewardPerUnit;
        bool paused;
        bool hasParam;
        address owner;
        uint256 param;
    }

    mapping(bytes32 imageId => Applet) private _applets;

    /// @notice An applet version was registered.
    event AppletRegistered(
        bytes32 indexed imageId, address indexed owner, address verifier, uint256 rewardPerUnit, bool hasParam, uint256 param
    );
    /// @notice An applet was paused (no claims paid) or resumed.
    event AppletPausedSet(bytes32 indexed imageId, bool paused, address indexed by);
    /// @notice The reward per output unit of an applet changed.
    event AppletRewardSet(bytes32 indexed imageId, uint256 rewardPerUnit);
    /// @notice Ownership of an applet moved from `from` to `to`.
    event AppletTransferred(bytes32 indexed imageId, address indexed from, address indexed to);

    /// @notice This imageId is already registered; a new applet version has a new imageId.
    error AppletRegistry__AlreadyRegistered(bytes32 imageId);
    /// @notice No applet with this imageId is registered.
    error AppletRegistry__UnknownApplet(bytes32 imageId);
    /// @notice Only the applet's owner (or a registrar) may do this.
    error AppletRegistry__NotAppletOwner(bytes32 imageId, address caller);
    /// @notice The verifier must be a contract address.
    error AppletRegistry__InvalidVerifier(address verifier);
    /// @notice The owner must be a nonzero address.
    error AppletRegistry__ZeroOwner();
    /// @notice rewardPerUnit must fit in 80 bits.
    error AppletRegistry__RewardTooLarge(uint256 rewardPerUnit);
    /// @notice The reducer parameter is a public signal, so it must lie below the BN254 scalar field.
    error AppletRegistry__ParamOutOfField(uint256 param);
    /// @notice The applet is already in the requested paused state.
    error AppletRegistry__PausedUnchanged(bytes32 imageId, bool paused);

    /// @param admin Account holding DEFAULT_ADMIN_ROLE and REGISTRAR_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice Registers an applet version.
    /// @param imageId sha256 of the applet's Wasm bytes.
    /// @param verifier Claim verifier (a ReadingsVerifierRouter for the applet's reducer).
    /// @param rewardPerUnit Tokens minted per unit of proven output (fits in 80 bits).
    /// @param owner Account that may pause the applet and transfer it.
    /// @param hasParam Whether the reducer has a parameter (count_above threshold), appended to the public signals.
    /// @param param The reducer parameter (ignored when hasParam is false).
    function registerApplet(
        bytes32 imageId,
        IClaimVerifier verifier,
        uint256 rewardPerUnit,
        address owner,
        bool hasParam,
        uint256 param
    ) external onlyRole(REGISTRAR_ROLE) {
        if (address(_applets[imageId].verifier) != address(0)) revert AppletRegistry__AlreadyRegistered(imageId);
        if (address(verifier).code.length == 0) revert AppletRegistry__InvalidVerifier(address(verifier));
        if (owner == address(0)) revert AppletRegistry__ZeroOwner();
        if (rewardPerUnit > type(uint80).max) revert AppletRegistry__RewardTooLarge(rewardPerUnit);
        if (!hasParam) param = 0;
        if (param >= SNARK_FIELD) revert AppletRegistry__ParamOutOfField(param);
        _applets[imageId] = Applet(verifier, uint80(rewardPerUnit), false, hasParam, owner, param);
        emit AppletRegistered(imageId, owner, address(verifier), rewardPerUnit, hasParam, param);
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

    /// @notice Moves an applet to a new owner. Owner only.
    function transferApplet(bytes32 imageId, address to) external {
        Applet storage app = _known(imageId);
        if (msg.sender != app.owner) revert AppletRegistry__NotAppletOwner(imageId, msg.sender);
        if (to == address(0)) revert AppletRegistry__ZeroOwner();
        app.owner = to;
        emit AppletTransferred(imageId, msg.sender, to);
    }

    /// @notice Everything stored for an applet (verifier is zero when unknown).
    function appletOf(bytes32 imageId) external view returns (Applet memory) {
        return _applets[imageId];
    }

    /// @notice What PayoutVault needs to pay a claim, read with one SLOAD (two with a reducer parameter).
    function claimConfig(bytes32 imageId)
        external
        view
        returns (IClaimVerifier verifier, uint256 rewardPerUnit, bool paused, bool hasParam, uint256 param)
    {
        Applet storage app = _applets[imageId];
        (verifier, rewardPerUnit, paused, hasParam) = (app.verifier, app.rewardPerUnit, app.paused, app.hasParam);
        if (hasParam) param = app.param;
    }

    function _known(bytes32 imageId) private view returns (Applet storage app) {
        app = _applets[imageId];
        if (address(app.verifier) == address(0)) revert AppletRegistry__UnknownApplet(imageId);
    }
}
