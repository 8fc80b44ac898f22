import SecModel
@testable import SecCLI
import Testing

/// The terminal bar chart of `timechart`.
@Suite struct ChartTests {
    let h: Int64 = 3_600_000

    @Test func oneAggregateBarsScaleToTheLargest() {
        let rows: [[Value]] = [[.time(0), .int(4), .double(1.5)], [.time(h), .int(0), .null], [.time(2 * h), .int(2), .double(3)]]
        let text = BarChart.render(columns: ["time", "n", "avg"], rows: rows, bars: 1..<2, series: false, width: 41, color: false)
        #expect(text == """
            time                  n  avg
            1970-01-01T00:00:00Z  4  1.5  ##########
            1970-01-01T01:00:00Z  0
            1970-01-01T02:00:00Z  2    3  #####

            """)
    }

    @Test func seriesStackWithALegend() {
        let rows: [[Value]] = [[.time(0), .int(3), .int(1)], [.time(h), .null, .int(2)]]
        let text = BarChart.render(columns: ["time", "success", "failure"], rows: rows, bars: 1..<3, series: true, width: 20 + 5 + 4 + 1 + 12, color: false)
        #expect(text == """
            # success
            = failure
            time                  total
            1970-01-01T00:00:00Z      4  #########===
            1970-01-01T01:00:00Z      2  ======

            """)
        let coloured = BarChart.render(columns: ["time", "a", "b"], rows: rows, bars: 1..<3, series: true, width: 80, color: true)
        #expect(coloured.contains("\u{1B}[31m█") && coloured.contains("\u{1B}[32m█"))
    }
}
