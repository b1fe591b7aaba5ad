package protocol

import (
	"testing"

	"github.com/puente-id/puente/gallery"
)

// TestGenerationOfContent: the generation the shards are checked against changes with any
// reference, template, epoch or order, and not otherwise.
func TestGenerationOfContent(t *testing.T) {
	base := func() *gallery.Snapshot {
		return &gallery.Snapshot{Epoch: 3, Dim: 2, Refs: []string{"a", "b"}, Templates: []float64{1, 0, 0, 1}}
	}
	g0 := generationOf(base())
	if generationOf(base()) != g0 {
		t.Fatal("generation is not deterministic")
	}
	changes := map[string]func(s *gallery.Snapshot){
		"epoch":    func(s *gallery.Snapshot) { s.Epoch = 4 },
		"ref":      func(s *gallery.Snapshot) { s.Refs[1] = "c" },
		"template": func(s *gallery.Snapshot) { s.Templates[3] = 0.5 },
		"order":    func(s *gallery.Snapshot) { s.Refs[0], s.Refs[1] = s.Refs[1], s.Refs[0] },
		"removal":  func(s *gallery.Snapshot) { s.Refs, s.Templates = s.Refs[:1], s.Templates[:2] },
	}
	for name, f := range changes {
		s := base()
		f(s)
		if generationOf(s) == g0 {
			t.Errorf("%s: same generation", name)
		}
	}
}
