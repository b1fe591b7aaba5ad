// Package wire is Puente's wire format as docs/protocol.md specifies it, and nothing else: it
// holds no state, opens no file and makes no call. It owns
//
//   - the canonical encoding (CE) of the signed messages and their SHA-512 digests
//     ([Canonical], [Digest]; envelope.proto), tested against the known-answer vectors of
//     proto/puente/v1/testdata/ce-vectors.txt (the schema-driven reference encoder's) and against
//     this package's own testdata/kat.txt (signed headers, their signing inputs, chunk layouts);
//   - the envelopes: request and response headers, their ML-DSA-65 signatures under the context
//     strings [DomainRequest] and [DomainResponse], the audit head a response carries, and the
//     checks a receiver makes, in the order the specification gives ([VerifyRequest],
//     [VerifyResponse]);
//   - the chunking of HE objects: signed descriptors checked against the receiver's limits
//     before any byte is read, chunks reassembled in order and checked against their SHA-512
//     ([CheckDescriptors], [SendObjects], [ReceiveObjects]);
//   - the status mapping: the gRPC codes a refusal is sent with, the safe message that alone
//     crosses the wire ([Error]), and the sentinels both sides recover from a code
//     ([SentinelOf], [RemoteError], [ErrInvalid], ...).
//
// The node (package protocol) decides what to send and what a request may do; this package only
// says how it is written and whether it is well formed and authentic. The nonce's freshness,
// the epoch, the parameter set and the purpose are the node's to check.
package wire
