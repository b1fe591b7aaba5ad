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
//     returns an [Answer] with the secrets of its opening. Several queries
//     against one gallery may be answered together
//     ([Responder.RespondBatch]): each gets the answer it would get alone,
//     and the gallery's conversion is shared.
//  4. The querier computes its shares of the answer ([Querier.Shares]), and
//     the two open them with package opening: a garbled circuit whose one
//     output, the querier's, is the decision.
//
// # The circuit
//
// The responder does not trust the probe's layout or norm. It rerandomises
// the query, projects it onto vectors of the gallery's period (the sum of
// its rotations by multiples of the padded dimension), and computes the
// squared norm of the projection over the template's coordinates. Scores
// s_k = <p, t_k> are computed for S = N templates at once by the diagonal
// method of Halevi and Shoup ("Algorithms in HElib", CRYPTO 2014) in
// baby-step/giant-step form; see [Gallery] for the layout. A score is
// mapped to x = c·(s - τ) in [-1, 1] at no level cost, and
// Step(x) = (1 + sign(x))/2 is evaluated by a composite minimax
// approximation of sign (Lee, Lee, Kim and No, "Minimax Approximation of
// Sign Function by Composite Polynomial for Homomorphic Comparison", IEEE
// TDSC 2021; Lattigo's circuits/ckks/minimax), odd Chebyshev series of
// degrees 7, 15, 31, 31 (depth 17) within 2^-31 of sign outside
// |x| < 2^-11 on [N15V2]. [N15V4] and [N15V3] (the same circuit; v4's key
// switches have three digits at the top level instead of four) serve
// thresholds τ ≥ 0.9233 only
// ([ParamSet.MinTau]): no score a probe that passes the norm check can
// reach then maps above x = 0.0405, and its composite, of degrees 7, 7, 15,
// 31 (depth 15, two levels fewer), is within 2^-31 of sign on
// [-1, -2^-11] ∪ [2^-11, 0.042], its first component a series with odd and
// even terms in u = (2x + 1 - 0.042)/1.042, to which the scores are mapped
// instead. The decisions of all blocks are summed: the constant
// coefficient of the sum is the count of entries at or above τ.
//
// # What an answer reveals
//
// One bit: count >= 1/2, the squared norm of the probe's template
// coordinates within 2^-11 of 1, that of its padding coordinates within
// 2^-11 of 0, and a tag that binds the three (against a querier that shifts
// its inputs to the opening) checks. The answer carries, for each of the
// four values, the responder's decryption share of the coefficient that
// holds it, masked with a fresh uniform value, and the rerandomised c1: uniformly random to the querier, it opens
// only through the garbled circuit. Counts, scores, norms and the
// evaluation's noise are never decrypted by anyone. Outside the threshold's
// band ([Threshold.Band], ±0.00095 in score units at τ = 0.9234) the bit is
// the exact decision except with probability below 2^-40 for galleries up
// to 2^22 entries (the most one answer counts; 2^21 on N15V3 and N15V4); inside it, scores near τ decide by their fractions (a
// verification still at τ). docs/he-parameters.md derives it; the
// TestOneBit suite mounts each attack against this code.
//
// # What it does not guarantee
//
//   - An honest responder. It garbles the opening's circuit, so it can make
//     the bit any function of the querier's input to it; it sees the bit
//     only through what the querier does next (SECURITY.md).
//   - Zero-knowledge proofs of well-formed ceremony shares. Lattigo's
//     multiparty protocols assume both parties follow them; [Ceremony] adds
//     what an active peer needs short of such proofs (commitments before
//     every share, share checks, the joint [Ceremony.KeyCheck]); SECURITY.md
//     states the residual risk.
//   - Constant time. Nothing here is; the keys, shares and data are the
//     parties' own and the protocol messages are public.
//   - Lattigo's own randomness. The noise inside the ceremony's protocol
//     shares is drawn by Lattigo from crypto/rand; secret shares, queries,
//     the rerandomisation, masks and MAC keys come from the io.Reader given
//     by the caller.
//
// # Parameter sets
//
// [N15V2] has ring degree 2^15 and log2(QP) = 865, within the 868 that the
// lattice estimator's current attacks (primal uSVP, MATZOV's dual hybrid)
// allow for 128-bit security with a uniform ternary secret and σ = 3.2
// (docs/he-parameters.md; the 2018 HE standard's 881 predates them). The
// ConjugateInvariant ring Z[X+X^-1]/(X^2N+1) has degree N; its security is
// taken as that of RLWE of dimension N, as Lattigo does. Package hetest
// names small INSECURE sets for tests, which exist only in builds with
// -tags puente_testparams.
//
// # Bytes on the wire
//
// Every object that leaves a party ([Query], [Answer], ceremony shares,
// [SecretShare], [EvaluationKeys], [Gallery]) has a fixed header
// naming its kind and parameter set, residues packed at the bit width of
// their prime, and a length fixed by the parameter set. Decoders check
// every field and every residue before use and never call Lattigo's
// UnmarshalBinary on received bytes; a failure is an error wrapping
// [ErrMalformed] or [ErrMismatch] with a [*FieldError] naming the field.
package he
