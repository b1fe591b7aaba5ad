// Package demo holds what `puente demo` needs besides the node itself: a generator of
// synthetic face-embedding-like feature vectors, the choice of probes whose plaintext answer is
// clear, and a relay that counts the bytes two nodes exchange.
//
// # Synthetic data
//
// Puente ships no biometric data, so the demo makes its own. [Generator] draws subjects and
// their captures from a [Model]: every subject shares a common component (real face
// embeddings are far from zero-mean: two different people's dlib descriptors have a cosine of
// about 0.83), each subject adds their own component, spread unevenly over the dimensions as
// identity information is in real embeddings, and each capture adds noise whose size varies
// with its quality. [DlibLike] is fitted to the summary statistics of the LFW dlib-128
// descriptors (see its documentation for the figures and the calibration test), so that mated
// and non-mated scores of protected templates fall on either side of the operating threshold
// as real ones do, with comparable error rates. The vectors describe nobody; they are not
// meant for measuring accuracy (docs/evaluation.md does that on real data).
//
// The generator is deterministic for a given model and seed within one build. It uses
// math/rand/v2's PCG, which is not a cryptographic generator: the data is not secret.
//
// # What the demo checks
//
// The demo generated both agencies' data, so unlike either agency it can compute the
// plaintext answer of every query: [BestScores] of the protected templates. Scores within a
// margin of the threshold are where the encrypted threshold may answer either way (its
// measured band is about ±0.008 at the production parameters); [PickClear] chooses probes
// outside it, so that a decision that differs from the plaintext answer is a fault.
//
// # Bytes on the wire
//
// A [Relay] sits between the two nodes on loopback and counts every byte it forwards in each
// direction: TLS records, gRPC framing, signatures and ciphertexts together.
package demo
