// Package he computes Puente's hit/no-hit decision under homomorphic
// encryption: the responder scores an encrypted probe against every
// protected template of its gallery, thresholds the scores and aggregates
// the decisions without seeing any of them, and only the two parties
// together can decrypt the result, which holds nothing but the decision.
//
// It is built on Lattigo v6 (github.com/tuneinsight/lattigo/v6): CKKS over
// the ConjugateInvariant ring (Kim and Song, "Approximate Homomorphic
// Encryption over the Conjugate-invariant Ring", ICISC 2018), with N real
// slots per ciphertext, and Lattigo's multiparty package for the keys.
//
// # Flow
//
//  1. Key ceremony, once per direction ([NewCeremony]): querier and
//     responder generate a key set whose secret is the sum of their shares
//     (Mouchet et al., "Multiparty Homomorphic Encryption from
//     Ring-Learning-with-Errors", PETS 2021). Each keeps its
//     [SecretShare]; the responder keeps the [EvaluationKeys].
//  2. The querier encrypts a protected probe ([Querier.EncryptProbe]) under
//     its own share with a seeded uniform mask: a fresh RLWE sample that the
//     responder turns into an encryption under the collective key (see
//     [Query]). The responder alone cannot decrypt it.
//  3. The responder evaluates ([Responder.Respond]) against a [Gallery] and
//     adds its decryption share, flooded with noise.
//  4. The querier adds its own share and decodes with Lattigo's
//     DecodePublic ([Querier.Decide]).
//
// # The circuit
//
// Scores s_k = <p, t_k> are computed for S = N templates at once by the
// diagonal method of Halevi and Shoup ("Algorithms in HElib", CRYPTO 2014)
// in baby-step/giant-step form; see [Gallery] for the layout. A score is
// mapped to x = c·(s - τ) in [-1, 1] at no level cost, and
// Step(x) = (1 + sign(x))/2 is evaluated by a composite minimax
// approximation of sign (Lee, Lee, Kim and No, "Minimax Approximation of
// Sign Function by Composite Polynomial for Homomorphic Comparison", IEEE
// TDSC 2021; Lattigo's circuits/ckks/minimax), odd Chebyshev series of
// degrees 7, 7, 15, 15 (depth 14) within 2^-32 of sign outside
// |x| < 2^-8. The decisions of all blocks and all slots are summed (log2 S
// rotations) and every slot but one is masked.
//
// # What a response reveals
//
// The responder chooses, per query, what the querier learns ([Mode]):
//
//   - [ModeAny] (default): whether some entry scored at or above τ. The
//     count c is reduced by the cubic that is 0 at c = 0 and 1 at
//     c = 1, 2, 3 ([AnyBound]). When 4 or more entries match, the decoded
//     value is 1 + C(c-1, 3): the querier learns that c > 3 and, for
//     moderate c, c itself ([Decision.AboveBound]). An exact OR over N
//     entries needs about log2(N) more levels than the parameter set has.
//   - [ModeCount]: the number of entries at or above τ.
//   - [ModeSlots]: one decision per gallery slot, blocks in a per-query
//     random order and rotated by per-query random offsets; the responder
//     keeps the [Trace] that maps a position back to an entry.
//
// Beyond that, and whatever the mode:
//
//   - Scores within the threshold's band ([Threshold.Band]) give decisions
//     between 0 and 1. Such a fraction survives aggregation: a decoded
//     half-integer is reported as [Decision.Uncertain], and a smaller
//     fraction shifts the decoded value within the flooding noise. This is
//     information about how close some score is to τ; it is the price of
//     an approximate comparison and is measured in docs/performance.md.
//   - The result carries the approximation and evaluation errors of the
//     circuit. The responder floods its decryption share with Gaussian
//     noise of standard deviation 2^-5 per decoded slot (see
//     docs/he-parameters.md), the largest that keeps a decision exact with
//     failure probability below 2^-40 (values are decoded at precision 1/2,
//     following Lattigo's SECURITY.md on CPA-D security and Li and
//     Micciancio, "On the Security of Homomorphic Encryption on Approximate
//     Numbers", EUROCRYPT 2021). The remaining statistical distance per
//     query is about |error| / (2·2^-5), measured by the tests.
//   - Response time and size reveal the number of blocks (the gallery size
//     rounded up to a multiple of S).
//
// # What it does not guarantee
//
//   - Full security against active adversaries. Lattigo's multiparty
//     protocols assume both parties follow them. [Ceremony] adds what an
//     active peer in the key ceremony needs short of zero-knowledge proofs
//     (commitments before every share, share checks, the joint
//     [Ceremony.KeyCheck]; SECURITY.md states the residual risk), but
//     nothing proves that a probe is well formed: a querier that encrypts a
//     vector of norm above 1 can push scores out of the polynomial's domain
//     and learn more than one bit per query. The responder's per-partner
//     quota bounds what any querier learns.
//   - Constant time. Nothing here is; the keys, shares and data are the
//     parties' own and the protocol messages are public.
//   - Lattigo's own randomness. The noise inside the ceremony's protocol
//     shares is drawn by Lattigo from crypto/rand; secret shares, query
//     and flooding randomness come from the io.Reader given by the caller.
//
// # Parameter sets
//
// [N15V1] has ring degree 2^15 and log2(QP) = 880, within the 881 of the
// Homomorphic Encryption Security Standard (Albrecht et al., 2018) for
// 128-bit security with a uniform ternary secret and σ = 3.2. The
// ConjugateInvariant ring Z[X+X^-1]/(X^2N+1) has degree N; its security is
// taken as that of RLWE of dimension N, as Lattigo does. Package hetest
// names small INSECURE sets for tests.
//
// # Bytes on the wire
//
// Every object that leaves a party ([Query], [Response], ceremony shares,
// [SecretShare], [EvaluationKeys], [Gallery], [Trace]) has a fixed header
// naming its kind and parameter set, residues packed at the bit width of
// their prime, and a length fixed by the parameter set. Decoders check
// every field and every residue before use and never call Lattigo's
// UnmarshalBinary on received bytes; a failure is an error wrapping
// [ErrMalformed] or [ErrMismatch] with a [*FieldError] naming the field.
package he
