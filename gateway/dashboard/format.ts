/** How the dashboard writes values for people: token units, time ranges, ages. */
import { formatUnits } from "ethers";

/** "0.024 MFI" from the smallest unit (18 decimals), at most 6 decimals shown. */
export function mfi(smallest: string | bigint | null | undefined): string {
  if (smallest === null || smallest === undefined || smallest === "") return "";
  const [whole, frac = ""] = formatUnits(BigInt(smallest), 18).split(".");
  const f = frac.slice(0, 6).replace(/0+$/, "");
  return `${Number(whole).toLocaleString("en-US")}${f ? `.${f}` : ""} MFI`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An epoch as a UTC time range: "2026-01-01 10:00–10:05" (the end date is written when it differs). */
export function timeRange(startMs: number, endMs: number): string {
  const a = new Date(startMs).toISOString();
  const b = new Date(endMs).toISOString();
  const end = a.slice(0, 10) === b.slice(0, 10) ? b.slice(11, 16) : `${b.slice(0, 10)} ${b.slice(11, 16)}`;
  return `${a.slice(0, 10)} ${a.slice(11, 16)}–${end}`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${pad(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** 1234567 → "1,234,567". */
export const num = (n: number | string) => Number(n).toLocaleString("en-US");

/** A duration for proving times: "0.35 s", "2.4 s", "42 s". */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 1 ? s.toFixed(2) : s < 10 ? s.toFixed(1) : Math.round(s).toLocaleString("en-US")} s`;
}
