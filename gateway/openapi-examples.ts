/**
 * Examples in /openapi.json, real ones: the reading and the batch are signed by test key 7 (gateway/testing.ts,
 * device-sdk's extendChain), registered with REGISTRATION_EXAMPLE; reference.test.ts posts them to a gateway and checks
 * the acks it answers are these (receivedAt aside), and that each problem example has the shape of the problem schema.
 * Regenerate with the same key and inputs if the reading format changes.
 */

export const DEVICE_ID_EXAMPLE = "12830615712773933631131133062862191446246092152399084907484907059450522527218";

export const REGISTRATION_EXAMPLE = {
  publicKey: {
    x: "12123820733868093669879614883306859260523360438265242029148352694883704770266",
    y: "2316497258389139586742639140115495297508375398602361123741506180874638418019",
  },
  owner: "0x1111111111111111111111111111111111111111",
  chainId: "31337",
  registry: "0x0000000000000000000000000000000000000000",
  signature: {
    R8x: "4386705672924806518142674363592794877574299245352778770387238784902138613008",
    R8y: "1889013837872128773404360406334657802738762488695907068246742457539083040066",
    S: "162278243998259490426617687925709848251615935745848498516174022869759001974",
  },
};

/** The device's first reading (seq 1, prev = Poseidon(deviceId)), signed. */
export const READING_EXAMPLE = {
  deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
  seq: "1",
  ts: "1767225600000",
  values: ["215", "1013", "0", "0"],
  prev: "2211840359257560262678157775066615364210859656996176515582312720646338141784",
  signature: {
    R8x: "4334223179530707679168814880110084403524899463075491163846965225563963099955",
    R8y: "4107573533059313044674570483302226702491072065841153657114298212948400758556",
    S: "1991603189573061671571215182114413849991208668660474143611832525139356637528",
  },
};

/** Readings 2 and 3 in one batch: only the last is signed; its signature vouches for the chain behind it. */
export const BATCH_EXAMPLE = {
  readings: [
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "2",
      ts: "1767225601000",
      values: ["216", "1012", "0", "0"],
      prev: "10857231009029480147257506431261874787981317003280435246040900013871817510611",
      signature: null,
    },
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "3",
      ts: "1767225602000",
      values: ["217", "1012", "0", "0"],
      prev: "16419445727959486066067009903196256909637259874203931934378853333516511261991",
      signature: {
        R8x: "1083007173173648594848800178138401727375493150949168722183815887057236183556",
        R8y: "2221921904967156776244898653066072909014390936923697497397295596574631235380",
        S: "2042278553987291985810494541920300158776306365666157218686202465913831270854",
      },
    },
  ],
};

export const ACK_EXAMPLE = {
  deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
  seq: "1",
  hash: "10857231009029480147257506431261874787981317003280435246040900013871817510611",
  receivedAt: 1767225600412,
};

export const BATCH_ACK_EXAMPLE = {
  acks: [
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "2",
      hash: "16419445727959486066067009903196256909637259874203931934378853333516511261991",
      receivedAt: 1767225602390,
    },
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "3",
      hash: "2582026951196185152231677674677681938431656809505979401045849760861487001974",
      receivedAt: 1767225602390,
    },
  ],
  receipts: [
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "2",
      hash: "16419445727959486066067009903196256909637259874203931934378853333516511261991",
      receivedAt: 1767225602390,
    },
    {
      deviceId: "12830615712773933631131133062862191446246092152399084907484907059450522527218",
      seq: "3",
      hash: "2582026951196185152231677674677681938431656809505979401045849760861487001974",
      receivedAt: 1767225602390,
    },
  ],
};

/** One example per problem type a route may answer, by status (RFC 9457; the `type` URL's last segment names it). */
export const PROBLEM_EXAMPLES: Record<number, Record<string, Record<string, unknown>>> = {
  "400": {
    "bad-request": {
      type: "https://machinefi.dev/problems/bad-request",
      title: "the request does not match the schema",
      status: 400,
      detail: "values: Array must contain at most 4 element(s)",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
      issues: [
        {
          path: "values",
          message: "Array must contain at most 4 element(s)",
        },
      ],
    },
  },
  "401": {
    unauthorized: {
      type: "https://machinefi.dev/problems/unauthorized",
      title: "this endpoint needs an operator API key",
      status: 401,
      detail: "send Authorization: Bearer <key> (create one with `mfi gateway apikey <name>`)",
      instance: "/v1/devices",
    },
  },
  "403": {
    "device-key-revoked": {
      type: "https://machinefi.dev/problems/device-key-revoked",
      title: "the device's key is no longer valid on L1",
      status: 403,
      detail: "the key was revoked or replaced by a rotation; sign with the device's current key",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
  },
  "404": {
    "not-found": {
      type: "https://machinefi.dev/problems/not-found",
      title: "unknown device",
      status: 404,
      detail: "register the device first: POST /v1/devices",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
  },
  "409": {
    "chain-conflict": {
      type: "https://machinefi.dev/problems/chain-conflict",
      title: "the reading does not extend the device's chain",
      status: 409,
      detail:
        "seq 5 is not the next reading; resend from seq 2 with prev 10857231009029480147257506431261874787981317003280435246040900013871817510611",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
      expectedSeq: "2",
      expectedPrev: "10857231009029480147257506431261874787981317003280435246040900013871817510611",
    },
    "already-registered": {
      type: "https://machinefi.dev/problems/already-registered",
      title: "the device is already registered",
      status: 409,
      instance: "/v1/devices",
    },
  },
  "413": {
    "too-large": {
      type: "https://machinefi.dev/problems/too-large",
      title: "the body is too large",
      status: 413,
      detail: "at most 1048576 bytes",
      instance:
        "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings/batch",
    },
  },
  "422": {
    unprocessable: {
      type: "https://machinefi.dev/problems/unprocessable",
      title: "reading 0: bad signature",
      status: 422,
      detail: "the signature does not verify under the device's key",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
      index: 0,
    },
  },
  "429": {
    "rate-limited": {
      type: "https://machinefi.dev/problems/rate-limited",
      title: "too many readings from this device",
      status: 429,
      detail: "retry after Retry-After seconds",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
    "too-many-failures": {
      type: "https://machinefi.dev/problems/too-many-failures",
      title: "too many refused requests from this client",
      status: 429,
      detail: "retry after Retry-After seconds",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
  },
  "503": {
    overloaded: {
      type: "https://machinefi.dev/problems/overloaded",
      title: "the gateway is overloaded",
      status: 503,
      detail: "nothing was stored; retry after Retry-After",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
    "store-unavailable": {
      type: "https://machinefi.dev/problems/store-unavailable",
      title: "the database is unavailable",
      status: 503,
      detail: "nothing new was acknowledged; retry after Retry-After",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
    "rate-limit-unavailable": {
      type: "https://machinefi.dev/problems/rate-limit-unavailable",
      title: "the shared rate limits cannot be read",
      status: 503,
      detail: "the database the gateways share is unavailable; nothing was stored; retry after Retry-After",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
    "shutting-down": {
      type: "https://machinefi.dev/problems/shutting-down",
      title: "the gateway is shutting down",
      status: 503,
      detail: "nothing was stored; retry against the restarted gateway",
      instance: "/v1/devices/12830615712773933631131133062862191446246092152399084907484907059450522527218/readings",
    },
  },
};
