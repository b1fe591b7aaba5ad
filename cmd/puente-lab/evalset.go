package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/internal/evaluation"
	"github.com/puente-id/puente/internal/lfw"
)

// setFlags are eval's flags that name a labelled set of embeddings to
// evaluate instead of the LFW data directory.
type setFlags struct {
	data                    string
	npy, csv, json          string
	csvHeader               bool
	labels, pairs           string
	public, publicLabels    string
	name, model, provenance string
}

func (f *setFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "LFW evaluation data directory, when no embeddings file is given (default: $PUENTE_DATA, else ../shared/data next to the module root)")
	fs.StringVar(&f.npy, "npy", "", "evaluate these embeddings instead of LFW: a NumPy .npy file, 2-D '<f4' or '<f8', one row per image, dimension 8 to 512")
	fs.StringVar(&f.csv, "csv", "", "the same as a CSV file, one vector per record")
	fs.StringVar(&f.json, "json", "", `the same as JSON: [[...], ...], or [{"name": ID, "embeddings": [[...], ...]}, ...], which names its identities`)
	fs.BoolVar(&f.csvHeader, "csv-header", false, "the CSV file's first record names the columns")
	fs.StringVar(&f.labels, "labels", "", "the identity of each row, one per line in row order (required unless the JSON names them)")
	fs.StringVar(&f.pairs, "pairs", "", "ten-fold verification pairs, one per line: row_a row_b same fold (default: built from the labels as LFW View-2 is)")
	fs.StringVar(&f.public, "public", "", "a public population of the same embedding model (.npy, .csv or .json) for the normalisation mean (default: the set's own mean)")
	fs.StringVar(&f.publicLabels, "public-labels", "", "the identities of -public's rows, one per line, to measure the identities it shares with the set")
	fs.StringVar(&f.name, "name", "", "the set's name in the report (default: the embeddings file's name without extension)")
	fs.StringVar(&f.model, "model", "", "the embedding model's name for the report's text, e.g. ArcFace")
	fs.StringVar(&f.provenance, "provenance", "", "where the embeddings come from, for the report: images, model, licence, conversion")
}

// embeddings returns the embeddings file and its format, or "" for LFW.
func (f *setFlags) embeddings() (string, dataset.Format, error) {
	var path string
	var format dataset.Format
	n := 0
	for _, c := range []struct {
		path   string
		format dataset.Format
	}{{f.npy, dataset.NPY}, {f.csv, dataset.CSV}, {f.json, dataset.JSON}} {
		if c.path != "" {
			path, format = c.path, c.format
			n++
		}
	}
	switch {
	case n > 1:
		return "", "", usagef("-npy, -csv and -json exclude each other")
	case n == 1 && f.data != "":
		return "", "", usagef("-data names the LFW set; it excludes -npy, -csv and -json")
	case n == 0 && (f.labels != "" || f.pairs != "" || f.public != "" || f.publicLabels != "" || f.name != "" || f.model != "" || f.provenance != "" || f.csvHeader):
		return "", "", usagef("-labels, -pairs, -public, -public-labels, -name, -model, -provenance and -csv-header need an embeddings file (-npy, -csv or -json)")
	case f.publicLabels != "" && f.public == "":
		return "", "", usagef("-public-labels needs -public")
	case f.csvHeader && f.csv == "":
		return "", "", usagef("-csv-header needs -csv")
	case strings.ContainsAny(f.provenance, "\n\r"):
		return "", "", usagef("-provenance must be one line")
	}
	return path, format, nil
}

// load fills cfg with the set to evaluate: the embeddings file and what
// goes with it, or the LFW data directory.
func (f *setFlags) load(cfg *evaluation.Config) error {
	emb, format, err := f.embeddings()
	if err != nil {
		return err
	}
	if emb == "" {
		if cfg.DataDir = f.data; cfg.DataDir == "" {
			cfg.DataDir, err = lfw.FindDataDir()
		}
		return err
	}
	cfg.Set, err = dataset.Load(dataset.Source{Embeddings: emb, Format: format, CSVHeader: f.csvHeader, Labels: f.labels,
		Pairs: f.pairs, Name: f.name, Model: f.model, Note: f.provenance})
	if err != nil || f.public == "" {
		return err
	}
	pf, ok := map[string]dataset.Format{".npy": dataset.NPY, ".csv": dataset.CSV, ".json": dataset.JSON}[strings.ToLower(filepath.Ext(f.public))]
	if !ok {
		return usagef("-public %s: the name must end in .npy, .csv or .json", f.public)
	}
	m, files, err := dataset.ReadEmbeddings(dataset.Source{Embeddings: f.public, Format: pf, Labels: f.publicLabels})
	if err != nil {
		return fmt.Errorf("public population: %w", err)
	}
	cfg.Public = &evaluation.Population{Name: filepath.Base(f.public), Emb: m, Files: files}
	return nil
}
