package crema.engine.csv;

import caffe.Caffe.Datum;

/** One accepted row: its id (or its line number as text) and the Datum Caffe would read. */
public record CsvRow(long line, String id, String label, Datum datum) {}
