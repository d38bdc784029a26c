/**
 * PDF export with pdfkit: A4 landscape, the title also in the document information (so
 * archives index it), the period and who generated it, the table, the summaries and notes.
 */
import { createRequire } from "node:module";
import { PDF_WORDS, type ReportLanguage } from "./localise.js";
import type { Cell, Report, Table } from "./report.js";

// pdfkit's types describe its CommonJS build (`export =`); loaded through require, which
// some loaders (vitest) answer with the ES module namespace instead, hence `default`
type PdfKit = typeof import("pdfkit");
const loaded = createRequire(import.meta.url)("pdfkit") as PdfKit | { default: PdfKit };
const PDFDocument: PdfKit = "default" in loaded ? loaded.default : loaded;

const MARGIN = 36;
/** A PDF is for reading; beyond this many rows it says so and points to the CSV. */
export const PDF_ROW_LIMIT = 5_000;

function text(value: Cell | undefined): string {
  if (value === null || value === undefined) return "";
  return String(value);
}

function drawTable(doc: PDFKit.PDFDocument, table: Table, empty: string): void {
  const width = doc.page.width - 2 * MARGIN;
  const columnWidth = width / Math.max(table.columns.length, 1);
  const rowHeight = (cells: string[]) =>
    Math.max(
      doc.currentLineHeight(),
      ...cells.map((cell) => doc.heightOfString(cell || " ", { width: columnWidth - 4 })),
    ) + 4;
  const drawRow = (cells: string[], bold: boolean) => {
    doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(8);
    const height = rowHeight(cells);
    if (doc.y + height > doc.page.height - MARGIN) doc.addPage();
    const top = doc.y;
    cells.forEach((cell, index) => {
      doc.text(cell, MARGIN + index * columnWidth + 2, top + 2, { width: columnWidth - 4 });
    });
    doc.x = MARGIN;
    doc.y = top + height;
    doc
      .moveTo(MARGIN, doc.y)
      .lineTo(MARGIN + width, doc.y)
      .lineWidth(0.3)
      .strokeColor("#999999")
      .stroke();
  };
  doc.font("Helvetica-Bold").fontSize(11).text(table.title, MARGIN, doc.y);
  doc.moveDown(0.3);
  drawRow(
    table.columns.map((column) => column.label),
    true,
  );
  if (table.rows.length === 0) {
    doc
      .font("Helvetica-Oblique")
      .fontSize(8)
      .text(empty, MARGIN, doc.y + 2);
  }
  for (const row of table.rows.slice(0, PDF_ROW_LIMIT)) {
    drawRow(
      table.columns.map((column) => text(row[column.key])),
      false,
    );
  }
  if (table.rows.length > PDF_ROW_LIMIT) {
    doc
      .font("Helvetica-Oblique")
      .fontSize(8)
      .text(
        `${table.rows.length - PDF_ROW_LIMIT} more rows are in the CSV export of this report.`,
        MARGIN,
        doc.y + 2,
      );
  }
  doc.moveDown(1);
}

/** The PDF of a report; `language` names the frame (period, notes) — localise the report first. */
export function reportToPdf(report: Report, language: ReportLanguage = "en"): Promise<Buffer> {
  const words = PDF_WORDS[language];
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: "A4",
      layout: "landscape",
      margin: MARGIN,
      info: {
        Title: report.title,
        Subject: `${report.orgName}, ${report.from} to ${report.to}`,
        Author: "lockfleet",
        Creator: "lockfleet fleet service",
      },
    });
    const chunks: Buffer[] = [];
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
    doc.font("Helvetica-Bold").fontSize(16).text(report.title);
    doc
      .font("Helvetica")
      .fontSize(9)
      .text(`${report.orgName} (${report.orgId})`)
      .text(`${words.period}: ${report.from} ${words.to} ${report.to}`)
      .text(`${words.generated} ${report.generatedAt} ${words.by} ${report.generatedBy}`);
    for (const [name, value] of Object.entries(report.filters)) {
      doc.text(name === "timeZone" ? `${words.times} ${value}` : `${name}: ${value}`);
    }
    doc.moveDown(1);
    drawTable(doc, report.table, words.empty);
    for (const summary of report.summaries) drawTable(doc, summary, words.empty);
    if (report.notes.length > 0) {
      doc.font("Helvetica-Bold").fontSize(10).text(words.notes, MARGIN, doc.y);
      doc.font("Helvetica").fontSize(8);
      for (const note of report.notes) doc.text(`• ${note}`, MARGIN, doc.y);
    }
    doc.end();
  });
}
