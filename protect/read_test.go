package protect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// npyBytes builds a .npy v1 file with the given header dict and data.
func npyBytes(dict string, data []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(append(b, h...), data...)
}

func f32data(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func f64data(vals ...float64) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

const dict23f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"

func TestReadNPY(t *testing.T) {
	m, err := ReadNPY(bytes.NewReader(npyBytes(dict23f4, f32data(1, 2, 3, 4, 5, 6))), "x.npy", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 2 || m.Cols != 3 || m.Row(1)[2] != 6 {
		t.Errorf("got %d x %d %v", m.Rows, m.Cols, m.Data)
	}
	d8 := "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }"
	m, err = ReadNPY(bytes.NewReader(npyBytes(d8, f64data(0.1, -2))), "x.npy", Limits{})
	if err != nil || m.Data[0] != 0.1 {
		t.Fatalf("<f8: %v %v", m, err)
	}
}

func TestReadNPYErrors(t *testing.T) {
	good := f32data(1, 2, 3, 4, 5, 6)
	cases := []struct {
		name, want string
		file       []byte
		lim        Limits
	}{
		{"empty file", "not a .npy file", nil, Limits{}},
		{"not npy", "not a .npy file", []byte("hello world, this is text"), Limits{}},
		{"big-endian", `field "descr"`, npyBytes(strings.Replace(dict23f4, "<f4", ">f4", 1), good), Limits{}},
		{"int dtype", `field "descr"`, npyBytes(strings.Replace(dict23f4, "<f4", "<i4", 1), good), Limits{}},
		{"fortran", `field "fortran_order"`, npyBytes(strings.Replace(dict23f4, "False", "True", 1), good), Limits{}},
		{"3-D", `field "shape"`, npyBytes(strings.Replace(dict23f4, "(2, 3)", "(2, 3, 1)", 1), good), Limits{}},
		{"truncated data", "row 1: truncated", npyBytes(dict23f4, good[:20]), Limits{}},
		{"trailing", "trailing bytes", npyBytes(dict23f4, append(good, 0)), Limits{}},
		{"NaN", "row 1, column 0: value is not finite", npyBytes(dict23f4, f32data(1, 2, 3, float32(math.NaN()), 5, 6)), Limits{}},
		{"zero row", "row 0: zero vector", npyBytes(dict23f4, f32data(0, 0, 0, 4, 5, 6)), Limits{}},
		{"huge shape", "exceed", npyBytes(strings.Replace(dict23f4, "(2, 3)", "(100000000, 3)", 1), good), Limits{}},
		{"wide", "dimension 3 exceeds", npyBytes(dict23f4, good), Limits{MaxCols: 2}},
		{"empty", "empty", npyBytes(strings.Replace(dict23f4, "(2, 3)", "(0, 3)", 1), nil), Limits{}},
		{"truncated header", "truncated .npy header", npyBytes(dict23f4, nil)[:30], Limits{}},
		{"no shape", `field "shape"`, npyBytes("{'descr': '<f4', 'fortran_order': False}", good), Limits{}},
	}
	for _, c := range cases {
		_, err := ReadNPY(bytes.NewReader(c.file), "emb.npy", c.lim)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "emb.npy") {
			t.Errorf("%s: err = %v, want one naming emb.npy and containing %q", c.name, err, c.want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	m, err := ReadCSV(strings.NewReader("a,b\n1,2\n3,4.5\n"), "f.csv", Limits{}, true)
	if err != nil || m.Rows != 2 || m.Row(1)[1] != 4.5 {
		t.Fatalf("got %v, %v", m, err)
	}
	cases := map[string]string{
		"1,2\n3\n":         "row 1: 1 values, want 2",
		"1,2\n3,x\n":       "row 1, column 1: not a number",
		"1,2\n3,NaN\n":     "row 1, column 1: value is not finite",
		"":                 "empty",
		"0,0\n":            "row 0: zero vector",
		"1,2\n\"3,4\n":     "malformed CSV",
		"1,2\n1e999,1\n":   "row 1, column 0: not a number",
		"1,2,3,4,5\n1,2\n": "dimension 5 exceeds",
		"1,2\n3,4\n5,6\n":  "more than the limit of 2 rows",
	}
	for in, want := range cases {
		_, err := ReadCSV(strings.NewReader(in), "f.csv", Limits{MaxCols: 4, MaxRows: 2}, false)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestReadJSON(t *testing.T) {
	m, err := ReadJSON(strings.NewReader(`[{"name":"a","embeddings":[[1,2],[3,4]]},{"name":"b","embeddings":[[5,6]]}]`), "f.json", Limits{})
	if err != nil || m.Rows != 3 || m.Labels[2] != "b" || m.Row(2)[1] != 6 {
		t.Fatalf("got %+v, %v", m, err)
	}
	if m, err = ReadJSON(strings.NewReader(`[[1,2],[3,4]]`), "f.json", Limits{}); err != nil || m.Labels != nil || m.Rows != 2 {
		t.Fatalf("bare vectors: %+v, %v", m, err)
	}
	cases := map[string]string{
		`[[1,2],[3]]`:     "row 1: 1 values, want 2",
		`[[1,2],[3,"x"]]`: "row 1: not an array of numbers",
		`[[1,2],[0,0]]`:   "row 1: zero vector",
		`{"a":1}`:         "not a JSON array",
		`[[1,2]`:          "not a JSON array",
		`[]`:              "empty",
		`[{"name":"a","embeddings":[[1,2]],"x":1}]`: "group 0",
		`[{"name":"a"}]`: `field "name/embeddings"`,
		`[{"name":"a","embeddings":[[1,2]]},[3,4]]`: "mixes",
		`[[1e999,1]]`: "row 0: not an array of numbers",
	}
	for in, want := range cases {
		_, err := ReadJSON(strings.NewReader(in), "f.json", Limits{})
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
	if _, err := ReadJSON(strings.NewReader(`[[1,2]]`), "f.json", Limits{MaxBytes: 4}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("size limit: err = %v", err)
	}
}

// checkReaderResult is what every fuzzer asserts: an error is an
// InputError, and a result is a valid matrix within the limits.
func checkReaderResult(t *testing.T, m *Matrix, err error, lim Limits) {
	t.Helper()
	if err != nil {
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error is not an InputError: %v", err)
		}
		return
	}
	if m.Rows > lim.MaxRows || m.Cols > lim.MaxCols {
		t.Fatalf("result %d x %d exceeds limits", m.Rows, m.Cols)
	}
	if verr := m.Validate("fuzz"); verr != nil {
		t.Fatalf("accepted an invalid matrix: %v", verr)
	}
	checkReencodings(t, m, lim)
}

// checkReencodings: a matrix that was read, written again as .npy (float64), CSV or JSON, reads
// back as the same matrix. The readers are not canonical (float32 or float64, spacing, quoting),
// so this is the weaker property: the value round-trips, not the input bytes.
func checkReencodings(t *testing.T, m *Matrix, lim Limits) {
	t.Helper()
	var csv, js strings.Builder
	js.WriteString("[")
	for r := range m.Rows {
		row := make([]string, m.Cols)
		for c, v := range m.Row(r) {
			row[c] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		fmt.Fprintf(&csv, "%s\n", strings.Join(row, ","))
		if r > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, "[%s]", strings.Join(row, ","))
	}
	js.WriteString("]")
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", m.Rows, m.Cols)
	npy := npyBytes(dict, f64data(m.Data...))
	big := Limits{MaxRows: lim.MaxRows, MaxCols: lim.MaxCols, MaxBytes: 1 << 24}
	for name, read := range map[string]func() (*Matrix, error){
		"npy":  func() (*Matrix, error) { return ReadNPY(bytes.NewReader(npy), "again.npy", big) },
		"csv":  func() (*Matrix, error) { return ReadCSV(strings.NewReader(csv.String()), "again.csv", big, false) },
		"json": func() (*Matrix, error) { return ReadJSON(strings.NewReader(js.String()), "again.json", big) },
	} {
		again, err := read()
		if err != nil || again.Rows != m.Rows || again.Cols != m.Cols || fmt.Sprint(again.Data) != fmt.Sprint(m.Data) {
			t.Fatalf("%d x %d matrix written as %s reads back as %v, %v", m.Rows, m.Cols, name, again, err)
		}
	}
}

var fuzzLimits = Limits{MaxRows: 64, MaxCols: 64, MaxBytes: 1 << 16}

func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes(dict23f4, f32data(1, 2, 3, 4, 5, 6)))
	f.Add(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f64data(1, 2)))
	f.Add(npyBytes(dict23f4, f32data(1, 2)))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadNPY(bytes.NewReader(b), "fuzz.npy", fuzzLimits)
		checkReaderResult(t, m, err, fuzzLimits)
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("1,2\n3,4\n", false)
	f.Add("x,y\n1,2\n", true)
	f.Add("1,\"2\"\n3,4e-3\n", false)
	f.Fuzz(func(t *testing.T, s string, header bool) {
		m, err := ReadCSV(strings.NewReader(s), "fuzz.csv", fuzzLimits, header)
		checkReaderResult(t, m, err, fuzzLimits)
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add(`[[1,2],[3,4]]`)
	f.Add(`[{"name":"a","embeddings":[[1,2],[3,4]]}]`)
	f.Add(fmt.Sprintf(`[[%g,1]]`, math.MaxFloat64))
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ReadJSON(strings.NewReader(s), "fuzz.json", fuzzLimits)
		checkReaderResult(t, m, err, fuzzLimits)
	})
}
