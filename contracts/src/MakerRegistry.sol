// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title MakerRegistry
/// @notice Device makers admitted by governance: an account, a name and a catalogue of models. A maker registers
/// the devices it made in batches (DeviceRegistry.registerDevicesBatch) or attests single devices (EIP-712) for
/// their owners to register; applets choose which makers' devices they pay (AppletRegistry).
/// @dev Maker ids start at 1 (0 means "no maker": a self-registered device). Names are restricted to a safe
/// character set because DeviceRegistry.tokenURI embeds them in JSON.
contract MakerRegistry is AccessControl {
    /// @notice Role allowed to admit makers and to suspend or resume them.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice At most this many models per maker (model numbers are uint16).
    uint256 public constant MAX_MODELS = 65_536;

    struct Maker {
        address account;
        bool active;
        string name;
    }

    /// @notice Number of makers admitted so far (the last maker id).
    uint32 public makerCount;
    mapping(uint32 makerId => Maker) private _makers;
    mapping(address account => uint32 makerId) private _idOf;
    mapping(uint32 makerId => string[]) private _models;

    /// @notice Governance admitted `account` as maker `makerId`.
    event MakerAdmitted(uint32 indexed makerId, address indexed account, string name);
    /// @notice Governance suspended (active = false) or resumed a maker; a suspended maker cannot register devices.
    event MakerActiveSet(uint32 indexed makerId, bool active);
    /// @notice A maker added a model to its catalogue.
    event ModelAdded(uint32 indexed makerId, uint16 indexed model, string name);

    /// @notice This account is already a maker.
    error MakerRegistry__AlreadyMaker(address account, uint32 makerId);
    /// @notice No maker has this id.
    error MakerRegistry__UnknownMaker(uint32 makerId);
    /// @notice The caller is not an admitted maker.
    error MakerRegistry__NotMaker(address caller);
    /// @notice Names are 1–64 characters of A–Z, a–z, 0–9, space, '-', '_' and '.' (they are embedded in token JSON).
    error MakerRegistry__BadName(string name);
    /// @notice The account must be a nonzero address.
    error MakerRegistry__ZeroAccount();
    /// @notice The maker's catalogue is full.
    error MakerRegistry__TooManyModels(uint32 makerId);
    /// @notice The maker is already in the requested state.
    error MakerRegistry__ActiveUnchanged(uint32 makerId, bool active);

    /// @param admin Account holding DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    /// @notice Admits `account` as a maker named `name`, with model 0 named "default" in its catalogue.
    /// @return makerId The new maker's id (1, 2, …).
    function admitMaker(address account, string calldata name) external onlyRole(GOVERNANCE_ROLE) returns (uint32 makerId) {
        if (account == address(0)) revert MakerRegistry__ZeroAccount();
        if (_idOf[account] != 0) revert MakerRegistry__AlreadyMaker(account, _idOf[account]);
        _checkName(name);
        makerId = ++makerCount;
        _makers[makerId] = Maker(account, true, name);
        _idOf[account] = makerId;
        emit MakerAdmitted(makerId, account, name);
        _models[makerId].push("default");
        emit ModelAdded(makerId, 0, "default");
    }

    /// @notice Suspends (false) or resumes (true) a maker. Its registered devices stay; it cannot register more.
    function setMakerActive(uint32 makerId, bool active) external onlyRole(GOVERNANCE_ROLE) {
        Maker storage m = _makers[makerId];
        if (m.account == address(0)) revert MakerRegistry__UnknownMaker(makerId);
        if (m.active == active) revert MakerRegistry__ActiveUnchanged(makerId, active);
        m.active = active;
        emit MakerActiveSet(makerId, active);
    }

    /// @notice Adds a model to the calling maker's catalogue.
    /// @return model The model's number within the maker's catalogue.
    function addModel(string calldata name) external returns (uint16 model) {
        uint32 makerId = _idOf[msg.sender];
        if (makerId == 0) revert MakerRegistry__NotMaker(msg.sender);
        _checkName(name);
        string[] storage list = _models[makerId];
        if (list.length >= MAX_MODELS) revert MakerRegistry__TooManyModels(makerId);
        model = uint16(list.length);
        list.push(name);
        emit ModelAdded(makerId, model, name);
    }

    /// @notice The id of the active maker behind `account`, and its number of models; (0, 0) when none.
    function activeMakerOf(address account) external view returns (uint32 makerId, uint256 models) {
        makerId = _idOf[account];
        if (makerId == 0 || !_makers[makerId].active) return (0, 0);
        models = _models[makerId].length;
    }

    /// @notice The id of `account` as a maker (0 when it is none), whether or not it is active.
    function makerIdOf(address account) external view returns (uint32) {
        return _idOf[account];
    }

    /// @notice A maker's account, state and name (account is zero when unknown).
    function makerOf(uint32 makerId) external view returns (address account, bool active, string memory name) {
        Maker storage m = _makers[makerId];
        return (m.account, m.active, m.name);
    }

    /// @notice The name of a maker's model ("" when unknown).
    function modelName(uint32 makerId, uint16 model) external view returns (string memory) {
        string[] storage list = _models[makerId];
        return model < list.length ? list[model] : "";
    }

    function _checkName(string calldata name) private pure {
        bytes calldata b = bytes(name);
        if (b.length == 0 || b.length > 64) revert MakerRegistry__BadName(name);
        for (uint256 i; i < b.length; ++i) {
            bytes1 c = b[i];
            bool ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == " " || c == "-"
                || c == "_" || c == ".";
            if (!ok) revert MakerRegistry__BadName(name);
        }
    }
}
