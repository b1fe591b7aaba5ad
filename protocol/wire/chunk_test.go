package wire

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// chunkSource replays a list of chunks, then io.EOF.
func chunkSource(cs []*pb.Chunk) func() (*pb.Chunk, error) {
	return func() (*pb.Chunk, error) {
		if len(cs) == 0 {
			return nil, io.EOF
		}
		c := cs[0]
		cs = cs[1:]
		return c, nil
	}
}

func chunksOf(objs ...[]byte) []*pb.Chunk {
	var out []*pb.Chunk
	SendObjects(func(c *pb.Chunk) error { out = append(out, c); return nil }, objs...)
	return out
}

func TestReceiveObjects(t *testing.T) {
	a := bytes.Repeat([]byte{1, 2, 3}, SendChunkSize) // three chunks
	b := []byte("second object")
	descs := []*pb.HEObject{Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "ps", a), Describe(pb.HEObjectKind_HE_OBJECT_KIND_PARTIAL_RESULT, "ps", b)}
	good := chunksOf(a, b)
	got, err := ReceiveObjects(context.Background(), chunkSource(good), descs, true)
	if err != nil || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
		t.Fatalf("in-order chunks: %v", err)
	}
	bad := func(edit func([]*pb.Chunk) []*pb.Chunk) []*pb.Chunk {
		cs := make([]*pb.Chunk, len(good))
		for i, c := range good {
			cs[i] = &pb.Chunk{ObjectIndex: c.ObjectIndex, Offset: c.Offset, Data: bytes.Clone(c.Data)}
		}
		return edit(cs)
	}
	tests := []struct {
		name string
		cs   []*pb.Chunk
		want string
	}{
		{"truncated", bad(func(cs []*pb.Chunk) []*pb.Chunk { return cs[:2] }), "truncated"},
		{"reordered", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[0], cs[1] = cs[1], cs[0]; return cs }), "out of order"},
		{"gap", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[1].Offset++; return cs }), "out of order"},
		{"overrun", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[3].Data = append(cs[3].Data, 0); return cs }), "past the declared size"},
		{"excess", bad(func(cs []*pb.Chunk) []*pb.Chunk { return append(cs, &pb.Chunk{ObjectIndex: 2, Data: []byte{0}}) }), "after the last"},
		{"tampered", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[1].Data[5] ^= 1; return cs }), "SHA-512"},
		{"empty chunk", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[0].Data = nil; return cs }), "outside"},
		{"no chunk", bad(func(cs []*pb.Chunk) []*pb.Chunk { cs[0] = nil; return cs }), "expected a chunk"},
	}
	for _, tt := range tests {
		_, err := ReceiveObjects(context.Background(), chunkSource(tt.cs), descs, true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %q", tt.name, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReceiveObjects(ctx, chunkSource(good), descs, true); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCheckDescriptors(t *testing.T) {
	d := Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "ps", []byte("abc"))
	rule := ObjectRule{Kind: pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, ParamSet: "ps", Limit: 3}
	if err := CheckDescriptors([]*pb.HEObject{d}, []ObjectRule{rule}); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(o *pb.HEObject){
		"oversized":     func(o *pb.HEObject) { o.Size = 4 },
		"empty":         func(o *pb.HEObject) { o.Size = 0 },
		"other set":     func(o *pb.HEObject) { o.ParamSet = "other" },
		"other kind":    func(o *pb.HEObject) { o.Kind = pb.HEObjectKind_HE_OBJECT_KIND_GKG_SHARE },
		"short digest":  func(o *pb.HEObject) { o.Sha512 = o.Sha512[:10] },
		"no descriptor": nil,
	} {
		var o *pb.HEObject
		if edit != nil {
			o = Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "ps", []byte("abc"))
			edit(o)
		}
		if err := CheckDescriptors([]*pb.HEObject{o}, []ObjectRule{rule}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := CheckDescriptors(nil, []ObjectRule{rule}); err == nil {
		t.Error("a missing object is accepted")
	}
}

// FuzzReceiveObjects feeds chunk sequences decoded from the fuzzer's bytes to receiveObjects: it
// must return an error or exactly the declared objects, never panic or over-allocate; and the
// chunks SendObjects makes of objects built from the input are received as those objects.
func FuzzReceiveObjects(f *testing.F) {
	f.Add([]byte{0, 0, 5, 'h', 'e', 'l', 'l', 'o'}, uint16(5))
	f.Add([]byte{0, 0, 2, 'h', 'e', 0, 2, 3, 'l', 'l', 'o'}, uint16(5))
	f.Add([]byte{1, 0, 5, 'h', 'e', 'l', 'l', 'o'}, uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		want := []byte("hello world, hello chunks")
		want = want[:int(size)%len(want)+1]
		desc := Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "ps", want)
		var cs []*pb.Chunk
		for len(data) >= 3 {
			idx, off, n := data[0], data[1], int(data[2])
			data = data[3:]
			n = min(n, len(data))
			cs = append(cs, &pb.Chunk{ObjectIndex: uint32(idx), Offset: uint64(off), Data: data[:n]})
			data = data[n:]
		}
		got, err := ReceiveObjects(context.Background(), chunkSource(cs), []*pb.HEObject{desc}, true)
		if err == nil && !bytes.Equal(got[0], want) {
			t.Fatalf("accepted %q, declared %q", got[0], want)
		}
		// Round trip: what SendObjects makes of objects built from the input (the accepted
		// object and the raw bytes) is received as those objects.
		objs := [][]byte{want, data}
		var sent []*pb.Chunk
		if _, err := SendObjects(func(c *pb.Chunk) error { sent = append(sent, c); return nil }, objs...); err != nil {
			t.Fatal(err)
		}
		descs := []*pb.HEObject{desc, Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "ps", data)}
		back, err := ReceiveObjects(context.Background(), chunkSource(sent), descs, true)
		if err != nil || !bytes.Equal(back[0], objs[0]) || !bytes.Equal(back[1], objs[1]) {
			t.Fatalf("sent objects of %d and %d bytes are not received as such: %v", len(objs[0]), len(objs[1]), err)
		}
	})
}
