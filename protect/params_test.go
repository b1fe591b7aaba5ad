package protect

import (
	"bytes"
	"errors"
	"testing"
)

func TestParamsRoundTrip(t *testing.T) {
	for _, s := range allSchemes {
		p := testParams(s)
		bin, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var q Params
		if err := q.UnmarshalBinary(bin); err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		if q.Fingerprint() != p.Fingerprint() {
			t.Errorf("%v: binary round trip changes the fingerprint", s)
		}
		txt, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var r Params
		if err := r.UnmarshalText(txt); err != nil {
			t.Fatalf("%v: %v\n%s", s, err, txt)
		}
		if r.Fingerprint() != p.Fingerprint() {
			t.Errorf("%v: text round trip changes the fingerprint:\n%s", s, txt)
		}
		txt2, _ := r.MarshalText()
		if !bytes.Equal(txt, txt2) {
			t.Errorf("%v: text encoding is not stable", s)
		}
	}
}

func TestParamsFingerprintSeesEveryField(t *testing.T) {
	base := testParams(IndexOfMax)
	changes := []func(*Params){
		func(p *Params) { p.M++ },
		func(p *Params) { p.Q++ },
		func(p *Params) { p.Norm.Weight = 0.25 },
		func(p *Params) { p.Norm.Mean = append([]float64{0.01}, p.Norm.Mean[1:]...) },
	}
	for i, ch := range changes {
		p := base
		p.Norm.Mean = append([]float64(nil), base.Norm.Mean...)
		ch(&p)
		if p.Fingerprint() == base.Fingerprint() {
			t.Errorf("change %d does not change the fingerprint", i)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	bad := []Params{
		{Scheme: 0, InputDim: 16, M: 8},
		{Scheme: BioHash, InputDim: 1, M: 8},
		{Scheme: BioHash, InputDim: 16, M: 0},
		{Scheme: BioHash, InputDim: 16, M: 8, Q: 2},
		{Scheme: BioHash, InputDim: 16, M: MaxOutputDim + 1},
		{Scheme: IndexOfMax, InputDim: 16, M: 8, Q: 1},
		{Scheme: IndexOfMax, InputDim: 16, M: 4096, Q: 4},
		{Scheme: PolyProtect, InputDim: 16, Order: 3, Overlap: 3, Scale: 1},
		{Scheme: PolyProtect, InputDim: 16, Order: 1, Overlap: 0, Scale: 1},
		{Scheme: PolyProtect, InputDim: 16, Order: 3, Overlap: 1, Scale: 0},
		{Scheme: BioHash, InputDim: 16, M: 8, Norm: Normalizer{Weight: 0.5}},
		{Scheme: BioHash, InputDim: 16, M: 8, Norm: Normalizer{Mean: testMean(16)}},
		{Scheme: BioHash, InputDim: 16, M: 8, Norm: Normalizer{Mean: testMean(15), Weight: 0.5}},
		{Scheme: BioHash, InputDim: 16, M: 8, Norm: Normalizer{Mean: testMean(16), Weight: 1.5}},
	}
	for i, p := range bad {
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("case %d: Validate = %v, want ErrParams", i, err)
		}
		if _, err := New(p, mustSeed(t, BioHash, 1)); err == nil {
			t.Errorf("case %d: New accepted invalid parameters", i)
		}
		if p.OutputDim() != 0 {
			t.Errorf("case %d: OutputDim of invalid parameters is not 0", i)
		}
	}
}

func TestParamsDecodeErrors(t *testing.T) {
	good, _ := testParams(BioHash).MarshalText()
	texts := []string{
		"",
		"puente-protect-params v2\nscheme biohash\n",
		string(good) + "m 9\n",
		string(good) + "colour blue\n",
		"puente-protect-params v1\nscheme rot13\ninput-dim 16\nm 8\n",
		"puente-protect-params v1\nscheme biohash\ninput-dim x\nm 8\n",
	}
	for i, txt := range texts {
		var p Params
		if err := p.UnmarshalText([]byte(txt)); !errors.Is(err, ErrParams) {
			t.Errorf("text %d: err = %v, want ErrParams", i, err)
		}
	}
	bin, _ := testParams(IndexOfMax).MarshalBinary()
	for _, b := range [][]byte{nil, bin[:10], bin[:len(bin)-1], append(bin, 0), append([]byte("XXXX"), bin[4:]...)} {
		var p Params
		if err := p.UnmarshalBinary(b); !errors.Is(err, ErrParams) {
			t.Errorf("binary of %d bytes: err = %v, want ErrParams", len(b), err)
		}
	}
}

func FuzzParamsBinary(f *testing.F) {
	for _, s := range allSchemes {
		b, _ := testParams(s).MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Params
		if p.UnmarshalBinary(b) != nil {
			return
		}
		again, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted encoding does not re-encode to itself (err %v)", err)
		}
		// The same parameters through the text form come back to the same bytes.
		text, err := p.MarshalText()
		var viaText Params
		if err == nil {
			err = viaText.UnmarshalText(text)
		}
		if bt, _ := viaText.MarshalBinary(); err != nil || !bytes.Equal(bt, b) {
			t.Fatalf("parameters do not survive the text form: %v", err)
		}
	})
}

func FuzzParamsText(f *testing.F) {
	for _, s := range allSchemes {
		b, _ := testParams(s).MarshalText()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Params
		if p.UnmarshalText(b) != nil {
			return
		}
		// The text form is not canonical (trailing newlines), so the weaker property: its
		// re-encoding decodes to the same parameters (compared in the canonical binary form).
		text, err := p.MarshalText()
		if err != nil {
			t.Fatalf("accepted text does not re-encode: %v", err)
		}
		var again Params
		if err := again.UnmarshalText(text); err != nil {
			t.Fatalf("re-encoded text is refused: %v", err)
		}
		b1, err1 := p.MarshalBinary()
		b2, err2 := again.MarshalBinary()
		if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("text round trip changed the parameters (%v, %v)", err1, err2)
		}
	})
}
