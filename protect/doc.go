// Package protect turns biometric feature vectors into cancellable
// templates: keyed, revocable protected forms whose inner products are match
// scores (ISO/IEC 24745 "biometric information protection"; the properties
// below are those ISO/IEC 30136 asks to measure).
//
// Both parties of a Puente agreement build the same [Transform] from the
// same [Params] (compare [Params.Fingerprint]) and the same [Seed], which
// [DeriveSeed] computes with HKDF-SHA256 (RFC 5869) from the agreement's
// key material, agreement ID, scheme and epoch. Revocation is a new epoch:
// a new seed and a re-protection of every template.
//
// Three schemes are implemented, each ending in a unit vector whose inner
// product is the score: [PolyProtect] (Hahn and Marcel, IEEE T-BIOM 2022,
// with a keyed input permutation added), [BioHash] (Teoh, Ngo and Goh,
// Pattern Recognition 2004, as ±1/sqrt(m)) and [IndexOfMax] (Jin et al.,
// IEEE TIFS 2018, GRP variant, one-hot/sqrt(m)). Feature intake
// ([ReadNPY], [ReadCSV], [ReadJSON]) validates what it reads and bounds what
// it allocates; [Normalizer] is the agreed normalisation step.
//
// The package also holds the measurements the evaluation, the encrypted
// matching and the tests share: [EER], [FNMRAtFMR], [ThresholdAtFMR] (the
// threshold tau for a target FMR), [FNIRAtFPIR], [DET], the unlinkability
// scores of Gomez-Barrero et al. ([UnlinkabilityScores]) and the inversion
// attacks of [Invert].
//
// # Guarantees
//
//   - Determinism: the same parameters and seed give the same transform
//     (up to floating-point rounding across architectures, see [New]); the
//     seed is expanded with HKDF-SHA256 and AES-256-CTR, never with
//     math/rand.
//   - Renewability and unlinkability across epochs: templates of one
//     subject under two epochs are measured (on LFW, docs/evaluation.md) to
//     score like templates of different subjects, D<->sys <= 0.10.
//   - Bad input never panics: readers and Apply return errors wrapping
//     [ErrInput], usually an [*InputError] naming the file, row and column,
//     never the feature values.
//   - Transforms are immutable and safe for concurrent use.
//
// # Non-guarantees
//
//   - Irreversibility against a holder of the seed. With the seed, the
//     attacks of [Invert] recover a vector that the unprotected comparators
//     (raw and mean-centred cosine) accept for the subject, for every scheme
//     at parameters that preserve accuracy. docs/evaluation.md measures the
//     trade-off across each scheme's parameters: the attacks fail only
//     where the protected vector constrains few of the input's directions,
//     and there accuracy is lost. The seed must therefore stay secret and
//     templates should travel only encrypted.
//   - Constant time. Apply's running time does not depend on secrets in an
//     obvious way, but no effort is made to make it constant; the metrics and
//     attacks are evaluation tools.
//   - Matching accuracy beyond what was measured: the recommended parameters
//     were chosen on dlib-128 face embeddings.
package protect
