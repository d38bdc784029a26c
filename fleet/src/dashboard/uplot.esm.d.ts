// The charting library uPlot, served by the fleet from its npm dependency as
// /dashboard/uplot.esm.js (fleet/src/routes/dashboard.ts); its types come with the package.
export { default } from "uplot";
