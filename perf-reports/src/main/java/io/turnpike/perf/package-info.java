/**
 * Performance reports: reads benchmark results and writes Markdown reports.
 *
 * <p>Flow: {@link io.turnpike.perf.read.ResultInputs} parses each input file and hands it to the
 * one {@link io.turnpike.perf.read.ResultReader} that recognizes it (today: the side-by-side JSON
 * of {@code scripts/bench.sh}; JMH and Gatling readers slot in next to it), building a
 * {@link io.turnpike.perf.model.Report}; {@link io.turnpike.perf.render.MarkdownReportWriter}
 * renders that model. {@link io.turnpike.perf.PerfReportMain} is the command line.
 */
package io.turnpike.perf;
