// Package protocol is a Puente node: the gRPC server and client by which two partner agencies run
// the key ceremony and ask each other hit/no-hit questions, and the operator's side of the node
// (enrolment, revocation, the operations the operator API serves). It joins the protect, he, keys,
// gallery and audit packages; the wire format is proto/puente/v1, docs/protocol.md and package
// protocol/wire, which alone encodes, signs, verifies and chunks what crosses the wire and maps
// refusals to status codes. A node's files are package home's: its configuration
// ([home.Config]), identity, key policy, key store, TLS files, partners' cards and the home's lock
// are opened through it ([home.Open]); protocol keeps its runtime's records (the audit log it
// appends to, the replay and quota state, galleries, evaluation keys) at the places the
// configuration names.
//
// # Identity and signatures
//
// Every connection is mutual TLS 1.3 (RFC 8446) with Go's default key exchanges, which put the
// hybrid post-quantum X25519MLKEM768 first. A partner is identified by the SHA-256 of its
// certificate's SubjectPublicKeyInfo (the pin of RFC 7469, from its node [home.Card]) or by a partner
// CA and its node name in the certificate; an unknown certificate completes the handshake but every
// call is refused (Unauthenticated), counted, and summarised in one audit record per source address
// and interval; past the key policy's limit a source's connections are closed when accepted
// (strangers.go). Every request and every answer carries a header
// signed with ML-DSA-65 (FIPS 204, context strings [DomainRequest] and [DomainResponse]) over its
// canonical encoding (envelope.proto); the header binds the payload (SHA-512), the sender and
// recipient, the method, the agreement, the epoch, the parameter set and the purpose, and an
// answer is bound to its request by the request header's digest.
//
// # Replay, quota, refusals
//
// A request is refused unless its timestamp is within the replay window of the receiver's clock
// (5 minutes by default) and its nonce was never accepted before; accepted nonces are kept in a
// bbolt state file until their timestamps leave the window, so a restarted node refuses them too.
// Each partner's query quota comes from the key policy (a sliding window, "N per PERIOD"); the
// queries answered are kept in the same file, so the quota survives restarts. The nonce is
// recorded and one query of the quota reserved in one durable transaction, and only once the
// request has passed every check: a refusal changes nothing but the audit log. A query accepted
// but not answered (cancelled, deadline, internal failure) gives its quota reservation back; its
// nonce stays used.
//
// Refusals are gRPC statuses with a short safe message (the internal cause is logged, never
// sent): InvalidArgument, Unauthenticated, PermissionDenied, ResourceExhausted,
// FailedPrecondition, NotFound, DeadlineExceeded. [Error] carries both; [RemoteError] is what the
// other side sees, and both wrap this package's sentinels ([ErrQuota], ...), which are the wire
// package's.
//
// # The operator API
//
// The operator's commands reach a running node through package operator: its Operator interface,
// which [*Node] implements, served as a gRPC service (proto/puente/operator/v1) on the node's unix
// socket with the partner API's status codes. This package does not import it; cmd/puente wires
// the two. The node's operations return errors that wrap this package's sentinels ([ErrInvalid],
// ...), which the operator API carries over the socket with their cause chains.
//
// # A node's records
//
// [Open] takes the home's lock ([home.LockHome]: one process at a time opens a node's files, and a
// second serve is told a node runs there), then checks the node's records before it serves: the audit log against its
// head (audit.Open), the state file's structure and that it counts at least what the audit log
// proves was answered, and each gallery's structure; a missing gallery whose keys exist is refused.
// A record that does not check out stops the node with the command that deals with it ([RebuildState],
// `puente audit repair -accept-loss`). Every Search and Verify is recorded as pending on both sides
// before its first byte (on the responder, for a partner past the refusals it records one by one in
// an interval, before its quota reservation: refusals.go), under the request ID the querier names
// in the call's metadata, and ended with its outcome; Open ends the ones a crash left pending (the responder gives back their quota
// reservations). An answer carries the responder's signed audit head, which the querier records
// (witness.go). Key commands reach a running node through the operator socket ([Node.Keys]) and
// take effect at once. Every call to a partner has a deadline and keepalive (deadline.go).
//
// # The key ceremony and epochs
//
// [Node.Ceremony] runs ceremony.proto's rounds as initiator: the committed CRS contributions, the
// transform-seed commit/reveal of the keys package (contributions sealed with age to the partner's
// recipient), commitments to every HE key share of a round before any is revealed, one key-share
// exchange per step of the he package's ceremony for each direction, the joint key check, and
// transcript digests compared before either side prepares the epoch. Any failure before the
// initiator commits aborts the ceremony on both sides; a step is never run twice with the same
// share (Lattigo's SECURITY.md). The switch of epochs is a two-phase commit (epoch.go): each node
// prepares (its HE shares, the evaluation keys and a sealed pending record), the initiator commits
// (keys.Agreements.Begin) and tells the responder, which commits too; a node that stopped half-way
// resolves its pending record when it opens (ceremony_runtime.go). Each node then re-protects its
// gallery under the new epoch and retires and destroys the old one.
// [Node.Revoke] revokes the current epoch at once and runs a new ceremony.
//
// # Search and Verify
//
// The querier protects raw features with the epoch's transform (protect), encrypts them under its
// share (he), and streams the ciphertext in chunks whose size is checked against the parameter
// set before any byte is accepted and whose SHA-512 is checked before decoding. The responder
// scores it against the partner's gallery, packed once per gallery generation (gallery.Derived)
// with at most gallery_memory_budget bytes of it in NTT form (home.Config.GalleryMemoryBudget),
// audits the answer ([audit.DecisionNotKnown]) and counts it against the quota (and, for Verify,
// the reference's verification limit), and only then sends it with the garbled circuit that opens
// it (package opening). In the second round, on the same stream, the querier asks for its input
// labels by oblivious transfer and evaluates the circuit: its one output bit is the decision,
// which it audits. A cancelled call stops the responder's evaluation (one evaluated together
// with others, once they are all cancelled). Encrypted evaluations run
// at most MaxConcurrent at a time; the Search calls of one partner that wait for one are
// evaluated together (he.Responder.RespondBatch, within home.Config.BatchMemoryBudget), each
// still with its own answer, quota count and audit record (batch.go).
//
// # What it does not guarantee
//
//   - An honest responder: it can answer hit or no-hit at will (SECURITY.md, "Wrong answers").
//     Against a querier that deviates, the he package enforces the probe's layout and norm and
//     the opening reveals one bit; the quota and the verification limit bound how many.
//   - Proofs that a partner's ceremony shares are well formed: the ceremony's commitments, share
//     checks and joint key check stand in for them (SECURITY.md states what risk remains).
//   - Availability: a partner with a valid certificate can keep the responder busy up to its
//     quota; unanswered queries (cancelled) do not count against it.
//   - Confidentiality of timing: response time reveals the gallery's size in blocks.
//   - That a new epoch becomes current on both nodes at the same instant: between the
//     initiator's commit and the responder's, queries under the new epoch are refused by the
//     responder until it commits (normally at once; after a crash, when the nodes reconnect).
package protocol
