// Package perf measures Puente's encrypted matching (package he) the way
// docs/performance.md reports it: every encrypted search beside the
// plaintext scan of the same gallery in the same process, wall-clock time
// beside CPU time, bytes on the wire and peak memory. `puente-lab bench` and
// the Go benchmarks of package he both run on it, so the two measure the
// same thing.
//
// # What it measures
//
//   - [RunCeremony]: both parties' sides of the key ceremony of one
//     direction in one process (he.NewCeremony, every step exchanged in
//     the canonical order), the time it takes and the bytes each party
//     sends; the stored size of the evaluation keys and of a secret share.
//   - [NewGallery]: a synthetic gallery of random unit vectors (protected
//     templates look like that to the encrypted scan) with a probe that
//     matches exactly one entry, packed with he.Pack.
//   - [Parties.Search]: one encrypted search as the protocol runs it:
//     probe encryption, the responder's evaluation with its flooded
//     decryption share, and the querier's decision, each timed; the
//     decision is checked against the plaintext count.
//   - [PlainScan] and [TimePlainScan]: the plaintext baseline, every score
//     in float64, thresholded and counted, on one core.
//
// # What it does not guarantee
//
// Timings are those of the machine at the moment: on a shared machine the
// wall-clock time moves with other jobs, which is why CPU time (user and
// system, of the whole process: [CPUTime]) and the ratio to the plaintext
// scan are given beside it. CPU time and peak memory come from getrusage
// and /proc/self/status (VmHWM); where the system does not provide them
// they are reported as zero with ok = false. [ResetPeakRSS] resets the
// high-water mark through /proc/self/clear_refs (Linux 4.0 and later) so
// that a measurement's peak is its own; where that fails the peak is the
// process's since it started, and [PeakScope] says so.
//
// The randomness of galleries, probes and HE operations comes from fixed
// seeds, so two runs do the same work; the noise Lattigo draws inside the
// ceremony's protocol shares comes from crypto/rand.
package perf
