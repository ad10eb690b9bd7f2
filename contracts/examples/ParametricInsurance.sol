// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AppletRegistry} from "../src/AppletRegistry.sol";

/// @notice What this example reads from PayoutVault: a fact exists only once a Groth16 proof of it was verified.
interface IProvenFacts {
    function factOf(bytes32 imageId, uint256 deviceId, uint256 epoch) external view returns (bool proven, uint256 output);
}

/// @notice What this example reads from AppletRegistry: the reducer parameter an applet's proofs are bound to.
/// @dev Uses the registry's own Applet struct, so the decoded layout cannot drift from the contract that returns it.
interface IAppletParams {
    function appletOf(bytes32 imageId) external view returns (AppletRegistry.Applet memory);
    /// @notice The applet's BatchVault (zero when none) and the first epoch start it credits.
    function batchVaultOf(bytes32 imageId) external view returns (address vault, uint256 fromMs);
}

/// @title ParametricInsurance (example consumer of proven facts)
/// @notice Parametric cover on one machine per policy: the holder pays a premium per epoch of cover; the policy pays
/// out once when the device's PROVEN output for one covered epoch crosses the line (e.g. threshold-alert's count of
/// readings above 30.0 °C reaches 3: a heat wave). It trusts no operator, gateway or worker: it reads only
/// PayoutVault.factOf for one pinned applet imageId, which exists only after the vault verified a proof (for epochs
/// the applet's BatchVault credits, that vault's factOf, recorded from the batch proof's roots).
/// @dev Solvency: every active policy reserves its payout from the underwriter's capital, so claims never fail for
/// lack of funds; an expired policy releases its reserve; the underwriter withdraws only unreserved capital.
/// The balance always equals reserved + free capital: nothing is stuck.
contract ParametricInsurance is ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum Trigger {
        AtLeast, // pays when output >= line (count of hot readings, downtime)
        AtMost // pays when output <= line (energy produced below a floor; note: no fact at all pays nothing)
    }

    enum Status {
        None,
        Active,
        PaidOut,
        Released
    }

    struct Policy {
        address holder;
        Status status;
        uint64 startMs;
        uint64 endMs;
        uint256 deviceId;
    }

    struct Terms {
        bytes32 imageId;
        Trigger trigger;
        uint256 line;
        uint64 epochLengthMs;
        uint256 premiumPerEpoch;
        uint256 payout;
        uint32 maxEpochs;
        uint64 claimWindow;
    }

    IProvenFacts public immutable facts;
    /// @notice AppletRegistry: the applet's parameter at deployment, its BatchVault (the facts of batched epochs).
    IAppletParams public immutable applets;
    IERC20 public immutable token;
    address public immutable underwriter;
    /// @notice The applet whose facts count; facts of any other imageId are never read.
    bytes32 public immutable imageId;
    Trigger public immutable trigger;
    uint256 public immutable line;
    /// @notice Every fact must cover exactly this long an epoch, so a claimant cannot pick a window to cross the line.
    uint64 public immutable epochLengthMs;
    uint256 public immutable premiumPerEpoch;
    uint256 public immutable payout;
    uint32 public immutable maxEpochs;
    /// @notice Seconds after a policy's cover ends during which its epochs may still be proven and paid.
    uint64 public immutable claimWindow;

    uint256 public reserved;
    uint256 public policyCount;
    mapping(uint256 policyId => Policy) private _policies;

    /// @notice A term is zero or inconsistent (payout, epoch length, maxEpochs, or an address).
    error ParametricInsurance__BadTerms();
    /// @notice The applet is not registered, or its proofs are bound to another parameter than these terms expect.
    error ParametricInsurance__WrongApplet(bytes32 imageId, uint256 expectedParam, uint256 param);
    /// @notice Cover must be 1..maxEpochs epochs.
    error ParametricInsurance__BadCover(uint256 epochs, uint256 maxEpochs);
    /// @notice Cover cannot start before the current block: facts already proven would be bought with certainty.
    error ParametricInsurance__CoverStartsInPast(uint64 startMs, uint256 nowMs);
    /// @notice Free capital does not cover another payout; the underwriter must add capital.
    error ParametricInsurance__InsufficientCapital(uint256 free, uint256 payout);
    error ParametricInsurance__UnknownPolicy(uint256 policyId);
    /// @notice The policy already paid out or was released.
    error ParametricInsurance__PolicyClosed(uint256 policyId, Status status);
    /// @notice The claim window of this policy is over.
    error ParametricInsurance__PolicyExpired(uint256 policyId, uint256 deadline);
    /// @notice The policy can only be released after its claim window.
    error ParametricInsurance__StillClaimable(uint256 policyId, uint256 deadline);
    /// @notice The epoch is not of the insured length, not aligned to the policy's start, or not inside its cover.
    error ParametricInsurance__EpochNotCovered(uint256 policyId, uint256 epoch);
    /// @notice PayoutVault holds no proven fact for (imageId, deviceId, epoch): prove and claim it there first.
    error ParametricInsurance__FactNotProven(bytes32 imageId, uint256 deviceId, uint256 epoch);
    /// @notice The proven output does not cross the line.
    error ParametricInsurance__TriggerNotMet(uint256 output, uint256 line);
    error ParametricInsurance__NotUnderwriter(address caller);
    /// @notice More than the free (unreserved) capital was asked for.
    error ParametricInsurance__WithdrawTooMuch(uint256 amount, uint256 free);

    event CapitalAdded(address indexed from, uint256 amount);
    event CapitalWithdrawn(address indexed to, uint256 amount);
    event PolicyBought(uint256 indexed policyId, address indexed holder, uint256 indexed deviceId, uint64 startMs, uint64 endMs, uint256 premium);
    event PolicyPaidOut(uint256 indexed policyId, address indexed holder, uint256 epoch, uint256 output, uint256 payout);
    event PolicyReleased(uint256 indexed policyId);

    /// @param vault PayoutVault (the facts). @param applets AppletRegistry, to check the applet's bound parameter.
    /// @param expectedParam The reducer parameter (count_above's threshold) the line assumes; checked at deployment.
    constructor(IProvenFacts vault, IAppletParams applets_, IERC20 token_, Terms memory t, uint256 expectedParam) {
        if (
            address(vault) == address(0) || address(token_) == address(0) || t.payout == 0 || t.epochLengthMs == 0
                || t.epochLengthMs > type(uint32).max || t.maxEpochs == 0
        ) revert ParametricInsurance__BadTerms();
        AppletRegistry.Applet memory a = applets_.appletOf(t.imageId);
        if (a.owner == address(0) || a.param != expectedParam) revert ParametricInsurance__WrongApplet(t.imageId, expectedParam, a.param);
        facts = vault;
        applets = applets_;
        token = token_;
        underwriter = msg.sender;
        imageId = t.imageId;
        trigger = t.trigger;
        line = t.line;
        epochLengthMs = t.epochLengthMs;
        premiumPerEpoch = t.premiumPerEpoch;
        payout = t.payout;
        maxEpochs = t.maxEpochs;
        claimWindow = t.claimWindow;
    }

    /// @notice Adds underwriting capital (needs an allowance). Anyone may add; only the underwriter withdraws.
    function fund(uint256 amount) external nonReentrant {
        emit CapitalAdded(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraws unreserved capital to `to`.
    function withdraw(uint256 amount, address to) external nonReentrant {
        if (msg.sender != underwriter) revert ParametricInsurance__NotUnderwriter(msg.sender);
        uint256 free = freeCapital();
        if (amount > free) revert ParametricInsurance__WithdrawTooMuch(amount, free);
        emit CapitalWithdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @notice Buys cover for `deviceId` over `epochs` epochs from `startMs` (unix ms, not before now).
    /// Pays premiumPerEpoch × epochs (needs an allowance) and reserves the payout. Only epochs aligned to `startMs`
    /// are covered: choose a start on the applet's epoch schedule (AppletRegistry), or no fact can ever pay.
    function buy(uint256 deviceId, uint64 startMs, uint256 epochs) external nonReentrant returns (uint256 policyId) {
        if (epochs == 0 || epochs > maxEpochs) revert ParametricInsurance__BadCover(epochs, maxEpochs);
        if (startMs < block.timestamp * 1000) revert ParametricInsurance__CoverStartsInPast(startMs, block.timestamp * 1000);
        uint256 free = freeCapital();
        if (free < payout) revert ParametricInsurance__InsufficientCapital(free, payout);
        uint64 endMs = startMs + uint64(epochs) * epochLengthMs;
        uint256 premium = premiumPerEpoch * epochs;
        policyId = ++policyCount;
        _policies[policyId] = Policy(msg.sender, Status.Active, startMs, endMs, deviceId);
        reserved += payout;
        emit PolicyBought(policyId, msg.sender, deviceId, startMs, endMs, premium);
        if (premium > 0) token.safeTransferFrom(msg.sender, address(this), premium);
    }

    /// @notice Pays the policy holder if the device's proven output for `epoch` (packed startMs·2^32 + lengthMs, as
    /// in PayoutVault) crosses the line. Anyone may call; the payout always goes to the holder, once.
    function claim(uint256 policyId, uint256 epoch) external nonReentrant {
        Policy storage p = _active(policyId);
        uint256 deadline = claimDeadline(policyId);
        if (block.timestamp > deadline) revert ParametricInsurance__PolicyExpired(policyId, deadline);
        uint256 startMs = epoch >> 32;
        // Aligned to the policy's start, not only of the right length: otherwise a holder slides the window over the
        // readings to wherever the output crosses the line (PayoutVault pays only its applet's schedule, so cover
        // bought on that schedule is the cover that can pay).
        if (
            epoch & type(uint32).max != epochLengthMs || startMs < p.startMs
                || (startMs - p.startMs) % epochLengthMs != 0 || startMs + epochLengthMs > p.endMs
        ) {
            revert ParametricInsurance__EpochNotCovered(policyId, epoch);
        }
        (bool proven, uint256 output) = facts.factOf(imageId, p.deviceId, epoch);
        if (!proven) {
            // an applet switched to aggregated claims: its epochs from the switch on are facts of its BatchVault
            // (BatchVault.recordFact), which the registry names; the two vaults never both credit an epoch
            (address batchVault, uint256 fromMs) = applets.batchVaultOf(imageId);
            if (batchVault != address(0) && startMs >= fromMs) {
                (proven, output) = IProvenFacts(batchVault).factOf(imageId, p.deviceId, epoch);
            }
        }
        if (!proven) revert ParametricInsurance__FactNotProven(imageId, p.deviceId, epoch);
        if (trigger == Trigger.AtLeast ? output < line : output > line) revert ParametricInsurance__TriggerNotMet(output, line);
        p.status = Status.PaidOut;
        reserved -= payout;
        emit PolicyPaidOut(policyId, p.holder, epoch, output, payout);
        token.safeTransfer(p.holder, payout);
    }

    /// @notice Releases the reserve of a policy whose claim window is over without a payout. Anyone may call.
    function release(uint256 policyId) external {
        Policy storage p = _active(policyId);
        uint256 deadline = claimDeadline(policyId);
        if (block.timestamp <= deadline) revert ParametricInsurance__StillClaimable(policyId, deadline);
        p.status = Status.Released;
        reserved -= payout;
        emit PolicyReleased(policyId);
    }

    /// @notice Capital not reserved for active policies.
    function freeCapital() public view returns (uint256) {
        return token.balanceOf(address(this)) - reserved;
    }

    /// @notice Last second (unix) a policy can be claimed: cover end + claimWindow.
    function claimDeadline(uint256 policyId) public view returns (uint256) {
        return _policies[policyId].endMs / 1000 + claimWindow;
    }

    function policyOf(uint256 policyId) external view returns (Policy memory) {
        return _policies[policyId];
    }

    function _active(uint256 policyId) private view returns (Policy storage p) {
        p = _policies[policyId];
        if (p.status == Status.None) revert ParametricInsurance__UnknownPolicy(policyId);
        if (p.status != Status.Active) revert ParametricInsurance__PolicyClosed(policyId, p.status);
    }
}
