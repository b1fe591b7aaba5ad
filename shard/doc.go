// Package shard runs a Puente node's responder over several machines: `puente shard` workers
// that each hold one partition of an agreement's gallery and the agreement's public evaluation
// keys, and the node's side of the fan-out.
//
// # What a shard holds
//
// A partition: the protected templates whose reference hash falls to the shard ([Owner]), packed
// for the he package, and the evaluation keys (public: relinearisation, rotation and public key
// of the collective key). Never the node's secret share, signing keys, TLS identity towards
// partners or the transform seed. What a shard computes, a [he.Partial], stays encrypted under
// the collective key, which no party decrypts alone.
//
// # Never a false no-hit
//
// The node sums the partial counts of every shard ([Pool.Count]); a shard that does not answer
// within the deadline, answers for another agreement, epoch, key set or partition generation, or
// whose partial does not answer the probe, makes the whole query fail with Unavailable or
// FailedPrecondition ([Error]). A query is never answered from the shards that did reply.
//
// # Placement
//
// Entry with reference ref belongs to shard Owner(ref, n) of n: the first 8 bytes of
// SHA-256("puente/shard/v1\x00" || ref), big endian, modulo n. Moving from n to n' shards
// reinstalls every partition (each shard's index and count change); an enrolment or a removal
// changes the generation of the owning shard's partition alone ([Partitions]).
//
// The shard protocol (proto/puente/shard/v1) runs over mutual TLS 1.3 inside the agency, with
// X25519MLKEM768 key exchange only; a shard accepts only client certificates from the agency's
// shard CA, and the node accepts only shard certificates from the same CA.
package shard
