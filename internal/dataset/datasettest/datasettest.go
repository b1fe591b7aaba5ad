// Package datasettest makes synthetic labelled embedding sets for tests, in
// any dimension, and writes them in the formats puente-lab eval reads.
// Nobody real is in them: Puente ships no third-party data.
package datasettest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/puente-id/puente/protect"
)

// Clustered returns ids identities of perID embeddings each, of dimension
// dim, drawn with seed, and the identity of each row ("id-0000", ...,
// rows grouped by identity). An embedding is a component common to all
// faces (weight 0.5) plus its identity's centre plus noise whose scale is
// drawn per embedding from [0.5, 1.6] of the centre's norm: mated
// comparisons mostly score well above non-mated ones, and the noisiest
// ones overlap them, so error rates at strict thresholds are not zero.
func Clustered(ids, perID, dim int, seed uint64) (*protect.Matrix, []string) {
	rng := rand.New(rand.NewPCG(seed, 0xc1a55))
	gauss := func(scale float64) []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = rng.NormFloat64() * scale / math.Sqrt(float64(dim))
		}
		return v
	}
	common := gauss(0.5)
	m := &protect.Matrix{Rows: ids * perID, Cols: dim}
	var labels []string
	for id := range ids {
		centre := gauss(1)
		for range perID {
			noise := gauss(0.5 + 1.1*rng.Float64())
			for i := range dim {
				m.Data = append(m.Data, common[i]+centre[i]+noise[i])
			}
			labels = append(labels, fmt.Sprintf("id-%04d", id))
		}
	}
	return m, labels
}

// NPY encodes m as a NumPy v1.0 .npy file of little-endian float32.
func NPY(m *protect.Matrix) []byte {
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m.Rows, m.Cols)
	hdr += strings.Repeat(" ", 64-(10+len(hdr)+1)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	b.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hdr))))
	b.WriteString(hdr)
	for _, v := range m.Data {
		b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v))))
	}
	return b.Bytes()
}

// Labels encodes identities as a labels file: one per line.
func Labels(identity []string) []byte {
	if len(identity) == 0 {
		return nil
	}
	return []byte(strings.Join(identity, "\n") + "\n")
}

// WriteNPY writes m and its identities to dir as name.npy and name.txt and
// returns their paths.
func WriteNPY(dir, name string, m *protect.Matrix, identity []string) (npy, labels string, err error) {
	npy, labels = filepath.Join(dir, name+".npy"), filepath.Join(dir, name+".txt")
	if err := os.WriteFile(npy, NPY(m), 0o644); err != nil {
		return "", "", err
	}
	return npy, labels, os.WriteFile(labels, Labels(identity), 0o644)
}
