package he

import (
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
)

// EvaluationKeys are the responder's public keys for one key set: the
// collective public key, the relinearization key and one rotation key per
// power-of-two rotation. They are public (they reveal nothing about either
// share) but large; [EvaluationKeys.MarshalBinary] stores them compactly.
type EvaluationKeys struct {
	ps      *ParamSet
	id      KeySetID
	maxDims int
	pk      *rlwe.PublicKey
	rlk     *rlwe.RelinearizationKey
	gks     map[uint64]*rlwe.GaloisKey
}

// KeySetID returns the key set the keys belong to.
func (k *EvaluationKeys) KeySetID() KeySetID { return k.id }

// MaxDims returns the largest template dimension the keys support.
func (k *EvaluationKeys) MaxDims() int { return k.maxDims }

// ParamSet returns the keys' parameter set.
func (k *EvaluationKeys) ParamSet() *ParamSet { return k.ps }

func (k *EvaluationKeys) keySet() *rlwe.MemEvaluationKeySet {
	gks := make([]*rlwe.GaloisKey, 0, len(k.gks))
	for _, g := range k.ps.GaloisElements(k.maxDims) {
		gks = append(gks, k.gks[g])
	}
	return rlwe.NewMemEvaluationKeySet(k.rlk, gks...)
}

// Encoding (kind keys):
//
//	header | max dims u32 | key-set ID [32] | public key, first component |
//	relinearization key (both components) | per rotation, in the order of
//	galoisElements: Galois element u64 and the key's first components
//
// The second components of the public and rotation keys are the common
// reference polynomials; they are re-derived from the key-set ID on load.

// MarshalBinary encodes the keys.
func (k *EvaluationKeys) MarshalBinary() ([]byte, error) {
	ps := k.ps
	e := newEncoder(kindKeys, ps, ps.keysWireSize(k.maxDims))
	e.u32(uint32(k.maxDims))
	e.raw(k.id[:])
	e.polyQP(k.pk.Value[0], ps.qAt(ps.topLevel()), ps.pAll())
	e.gadget(&k.rlk.GadgetCiphertext, ps.qAt(ps.relinLevel()), ps.pAll())
	for _, g := range ps.GaloisElements(k.maxDims) {
		e.u64(g)
		gk := k.gks[g]
		qs := ps.qAt(gk.LevelQ())
		for i := range gk.Value {
			for j := range gk.Value[i] {
				e.polyQP(gk.Value[i][j][0], qs, ps.pAll())
			}
		}
	}
	return e.b, nil
}

func (ps *ParamSet) keysWireSize(maxDims int) int {
	n := headerSize + 4 + 32 + ps.polySizeQ(ps.topLevel()) + polySize(ps.params.N(), ps.pAll())
	n += ps.gadgetSize(ps.relinLevel(), 1)
	for _, g := range ps.GaloisElements(maxDims) {
		n += 8 + ps.gadgetSize(ps.galoisLevel(maxDims, g), 0)
	}
	return n
}

// ReadEvaluationKeys decodes keys made by [EvaluationKeys.MarshalBinary]
// for parameter set ps.
func ReadEvaluationKeys(ps *ParamSet, b []byte) (*EvaluationKeys, error) {
	d := newDecoder(b, kindKeys, ps)
	maxDims := int(d.u32("max dims"))
	id := KeySetID(d.bytes32("key-set ID"))
	if d.err != nil {
		return nil, d.err
	}
	if err := ps.checkMaxDims(maxDims); err != nil {
		return nil, malformed(d.obj, "max dims", "%v", err)
	}
	if want := ps.keysWireSize(maxDims); len(b) != want {
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), want)
	}
	k := &EvaluationKeys{ps: ps, id: id, maxDims: maxDims, gks: map[uint64]*rlwe.GaloisKey{}}
	ckg := multiparty.NewPublicKeyGenProtocol(ps.params)
	k.pk = rlwe.NewPublicKey(ps.params)
	d.polyQP("public key", ps.qAt(ps.topLevel()), ps.pAll(), k.pk.Value[0])
	ckg.GenPublicKey(multiparty.PublicKeyGenShare{Value: k.pk.Value[0]}, ckg.SampleCRP(crsFor(id, "ckg", 0)), k.pk)
	k.rlk = rlwe.NewRelinearizationKey(ps.params, ps.evkParams(ps.relinLevel()))
	d.gadget("relinearization key", &k.rlk.GadgetCiphertext, ps.qAt(ps.relinLevel()), ps.pAll())
	gkg := multiparty.NewGaloisKeyGenProtocol(ps.params)
	for _, g := range ps.GaloisElements(maxDims) {
		d.expect("Galois element", d.u64("Galois element"), g)
		if d.err != nil {
			return nil, d.err
		}
		lvl := ps.galoisLevel(maxDims, g)
		crp := gkg.SampleCRP(crsFor(id, "gkg", g), ps.evkParams(lvl))
		gk := rlwe.NewGaloisKey(ps.params, ps.evkParams(lvl))
		for i := range gk.Value {
			for j := range gk.Value[i] {
				d.polyQP("rotation key", ps.qAt(lvl), ps.pAll(), gk.Value[i][j][0])
				gk.Value[i][j][1].Copy(crp.Value[i][j])
			}
		}
		gk.GaloisElement, gk.NthRoot = g, ps.params.RingQ().NthRoot()
		k.gks[g] = gk
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return k, nil
}

// Size returns the encoded size of the keys in bytes.
func (k *EvaluationKeys) Size() int { return k.ps.keysWireSize(k.maxDims) }

func (k *EvaluationKeys) String() string {
	return fmt.Sprintf("he.EvaluationKeys{%s, max dims %d, %d rotation keys}", k.ps.Name(), k.maxDims, len(k.gks))
}
