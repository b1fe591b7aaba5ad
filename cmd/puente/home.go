package main

import "github.com/puente-id/puente/home"

// A node's files are package home's: the commands find them through it, at the places the
// node's puente.hcl names (or the defaults of a home without one), and never by name.

// configPath returns the node's configuration file in dir.
func configPath(dir string) string { return home.ConfigFile(dir) }

// loadConfig reads the configuration of the node at dir.
func loadConfig(dir string) (*home.Config, error) { return home.LoadConfig(home.ConfigFile(dir)) }
