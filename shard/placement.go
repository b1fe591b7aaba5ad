package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Owner returns the index, in [0, n), of the shard that holds the entry with reference ref.
// It panics if n < 1 (a programming error: a node without shards does not place entries).
func Owner(ref string, n int) int {
	if n < 1 {
		panic("shard: Owner with no shards")
	}
	h := sha256.Sum256(append([]byte("puente/shard/v1\x00"), ref...))
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(n))
}

// An Entry is one gallery entry as a shard holds it: its reference and its protected template
// (nil for an absent entry, which never hits).
type Entry struct {
	Ref      string
	Template []float64
}

// Split partitions entries over n shards by [Owner]: each entry lands in exactly one partition,
// and within a partition entries keep their order.
func Split(entries []Entry, n int) [][]Entry {
	out := make([][]Entry, n)
	for _, e := range entries {
		i := Owner(e.Ref, n)
		out[i] = append(out[i], e)
	}
	return out
}

// Partitions splits entries over n shards by [Owner] ([Split]) and returns want with each
// partition's generation: a digest of the epoch, the dimension and the partition's references
// and templates in order. It survives restarts (the node's store generation does not), so a
// shard that already holds its content is not sent it again, and an enrolment or a removal
// changes the generation of the owning shard alone.
func Partitions(want Want, n, dims int, entries []Entry) (Want, [][]Entry) {
	parts := Split(entries, n)
	want.Generations = make([]uint64, n)
	for i, part := range parts {
		want.Generations[i] = Generation(want.Epoch, dims, part)
	}
	return want, parts
}

// Generation names a partition's content ([Partitions]).
func Generation(epoch uint64, dims int, entries []Entry) uint64 {
	h := sha256.New()
	var b [8]byte
	put := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte("puente/shard/generation/v1\x00"))
	put(epoch)
	put(uint64(dims))
	put(uint64(len(entries)))
	for _, e := range entries {
		put(uint64(len(e.Ref)))
		h.Write([]byte(e.Ref))
		if e.Template == nil {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		for _, v := range e.Template {
			put(math.Float64bits(v))
		}
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// Targets returns the addresses of a node's shards: the static list addrs, or, when pattern is
// set, pattern with "{i}" replaced by 0 … count-1 (the stable DNS names a Kubernetes
// StatefulSet's pods get under its headless Service, e.g.
// "puente-shard-{i}.puente-shard.puente.svc.cluster.local:7443"). Exactly one of the two must
// be given.
func Targets(addrs []string, pattern string, count int) ([]string, error) {
	switch {
	case len(addrs) > 0 && pattern != "":
		return nil, fmt.Errorf("shard: give either a list of shard addresses or a DNS pattern, not both")
	case len(addrs) > 0:
		seen := map[string]bool{}
		for _, a := range addrs {
			if a == "" || seen[a] {
				return nil, fmt.Errorf("shard: shard address %q empty or listed twice", a)
			}
			seen[a] = true
		}
		return append([]string(nil), addrs...), nil
	case pattern != "":
		if !strings.Contains(pattern, "{i}") {
			return nil, fmt.Errorf("shard: DNS pattern %q has no {i}", pattern)
		}
		if count < 1 || count > maxShards {
			return nil, fmt.Errorf("shard: shard count %d outside [1, %d]", count, maxShards)
		}
		out := make([]string, count)
		for i := range out {
			out[i] = strings.ReplaceAll(pattern, "{i}", fmt.Sprint(i))
		}
		return out, nil
	}
	return nil, fmt.Errorf("shard: no shards named")
}

// maxShards bounds the shards of one node: one answer counts at most 128 blocks, so more
// shards than that would hold empty partitions.
const maxShards = 128
