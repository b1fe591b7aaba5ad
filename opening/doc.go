// Package opening turns a Puente answer into one bit: a two-party garbled
// circuit that takes the responder's masks, windows and MAC keys and the
// querier's decryption shares of the count, the two norms (of the probe's
// template coordinates and of its padding coordinates) and the tag (package
// he), and outputs to the querier only
//
//	hit = [count in its window] ∧ [norm in its window] ∧ [padding norm in its window]
//	      ∧ [tag = K1·count + K2·norm + K4·padding norm + K3, within its noise]
//
// with every value modulo the answer's prime Q (Params). Nothing else of
// either party's inputs reaches the other: the querier learns the bit, the
// responder learns nothing.
//
// # Construction
//
//   - Garbling: half-gates (Zahur, Rosulek and Evans, EUROCRYPT 2015) with
//     free XOR, two 16-byte ciphertexts per AND gate, and the tweakable
//     circular correlation robust hash of Guo, Katz, Wang and Yu (IEEE S&P
//     2020) over fixed-key AES-128. An AND gate with a garbler input (the
//     MAC's partial products: a bit of a key selected by a Booth digit of
//     the count or a norm) is the generator half-gate alone, with the
//     garbler's bit in place of the permute bit: one ciphertext. The
//     circuit is built by both parties from the public Params
//     ([Params.ANDGates] gates: 9,790 for puente-ckks-n15-v2 and v3, 5,580
//     of them with a garbler input; 232,944 bytes of tables, input labels
//     and commitments) and never travels; the garbler sends its digest.
//   - Inputs: the garbler's labels directly; the evaluator's by oblivious
//     transfer extension (Ishai, Kilian, Nissim and Petrank, CRYPTO 2003)
//     from 128 base transfers run the other way, the endemic OT of Masny
//     and Rindal (ACM CCS 2019) over ML-KEM-768, so that the querier's input
//     stays hidden from a responder with a quantum computer too. The base
//     transfers are fresh in every opening (ext.go): 299,008 bytes of
//     request in the first message, 282,624 of answer in the transfer
//     request, and 32 bytes per evaluator input bit in the transfer answer,
//     instead of 2,208 per bit with one base-style transfer each.
//   - Output: the garbler commits to both labels of the output wire, so
//     the evaluator decodes the bit and detects a circuit that does not
//     open ([ErrCheating]). It cannot detect a garbler that garbled another
//     circuit: garbled circuits protect the garbler's inputs, not the
//     evaluator against the garbler (see SECURITY.md, "Wrong answers").
//   - Binding: every message is bound to a session value both parties
//     derive from the query, so a message of one opening is refused in
//     another.
//
// # Flow
//
//	responder: g, msg := Garble(p, secrets, session, rand)     → msg (with the answer)
//	querier:   e, req := NewEvaluator(p, session, msg, x, rand) → req (base transfers' answer, extension columns)
//	responder: resp := g.Transfer(req, rand)                    → resp
//	querier:   hit := e.Finish(resp)
//
// [Reference] is the plaintext definition of the output, for tests.
package opening
