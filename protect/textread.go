package protect

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadCSV reads feature vectors as comma-separated values (RFC 4180), one
// vector per record. With header true the first record names the columns
// and is skipped. Every record must have the same number of values. Errors
// name source, the record (0-based, counting data rows) and the column.
func ReadCSV(r io.Reader, source string, lim Limits, header bool) (*Matrix, error) {
	lim = lim.orDefault()
	lr := &io.LimitedReader{R: r, N: lim.MaxBytes + 1}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	m := &Matrix{}
	for line := 0; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if lr.N <= 0 {
			return nil, inputErr(source, -1, -1, "larger than the limit of %d bytes", lim.MaxBytes)
		}
		if err != nil {
			return nil, inputErr(source, m.Rows, -1, "malformed CSV: %v", err)
		}
		if header && line == 0 {
			continue
		}
		if err := m.appendRecord(source, rec, lim); err != nil {
			return nil, err
		}
	}
	if err := lim.checkShape(source, m.Rows, m.Cols); err != nil {
		return nil, err
	}
	return m, m.Validate(source)
}

func (m *Matrix) appendRecord(source string, rec []string, lim Limits) error {
	if err := m.checkNextRow(source, len(rec), lim); err != nil {
		return err
	}
	for c, f := range rec {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return inputErr(source, m.Rows, c, "not a number")
		}
		m.Data = append(m.Data, v)
	}
	m.Rows++
	return nil
}

// ReadJSON reads feature vectors from JSON in either of two forms: an array
// of vectors, [[x0, x1, ...], ...], or an array of labelled groups,
// [{"name": "...", "embeddings": [[...], ...]}, ...], whose rows get the
// group's name as label. Unknown keys are errors. Errors name source, the
// row and, for groups, the group index and field.
func ReadJSON(r io.Reader, source string, lim Limits) (*Matrix, error) {
	lim = lim.orDefault()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, inputErr(source, -1, -1, "read: %v", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, inputErr(source, -1, -1, "larger than the limit of %d bytes", lim.MaxBytes)
	}
	var top []json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, inputErr(source, -1, -1, "not a JSON array: %v", jsonReason(err))
	}
	m := &Matrix{}
	for i, el := range top {
		el = bytes.TrimSpace(el)
		if len(el) > 0 && el[0] == '{' {
			err = m.appendGroup(source, i, el, lim)
		} else {
			err = m.appendJSONRow(source, el, lim, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := lim.checkShape(source, m.Rows, m.Cols); err != nil {
		return nil, err
	}
	if m.Labels != nil && len(m.Labels) != m.Rows {
		return nil, inputErr(source, -1, -1, "mixes labelled groups and bare vectors")
	}
	return m, m.Validate(source)
}

type jsonGroup struct {
	Name       *string           `json:"name"`
	Embeddings []json.RawMessage `json:"embeddings"`
}

func (m *Matrix) appendGroup(source string, i int, el []byte, lim Limits) error {
	var g jsonGroup
	dec := json.NewDecoder(bytes.NewReader(el))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return &InputError{Source: source, Row: m.Rows, Col: -1, Reason: fmt.Sprintf("group %d: %v", i, jsonReason(err))}
	}
	if g.Name == nil || g.Embeddings == nil {
		return &InputError{Source: source, Row: m.Rows, Col: -1, Field: "name/embeddings", Reason: fmt.Sprintf("group %d lacks the field", i)}
	}
	for _, e := range g.Embeddings {
		if err := m.appendJSONRow(source, e, lim, g.Name); err != nil {
			return err
		}
	}
	return nil
}

func (m *Matrix) appendJSONRow(source string, el []byte, lim Limits, label *string) error {
	var row []float64
	if err := json.Unmarshal(el, &row); err != nil {
		return inputErr(source, m.Rows, -1, "not an array of numbers: %v", jsonReason(err))
	}
	if err := m.checkNextRow(source, len(row), lim); err != nil {
		return err
	}
	if label != nil {
		m.Labels = append(m.Labels, *label)
	}
	m.Data = append(m.Data, row...)
	m.Rows++
	return nil
}

// jsonReason shortens a JSON error to its cause, without echoing input.
func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("a value of the wrong type or out of range where %s expected", te.Type)
	}
	return err.Error()
}

// checkNextRow checks a row of n values about to be appended: the first row
// fixes the dimension, later rows must match it, and the limits hold.
func (m *Matrix) checkNextRow(source string, n int, lim Limits) error {
	if m.Rows == 0 {
		m.Cols = n
		if err := lim.checkShape(source, 1, m.Cols); err != nil {
			return err
		}
	}
	if n != m.Cols {
		return inputErr(source, m.Rows, -1, "%d values, want %d like the first row", n, m.Cols)
	}
	if m.Rows >= lim.MaxRows {
		return inputErr(source, m.Rows, -1, "more than the limit of %d rows", lim.MaxRows)
	}
	return nil
}
