/** One validation problem of an ingest request (docs/api.md: index, path, message). */
export interface ItemProblem {
  index: number;
  path: string;
  message: string;
}

/** At most this many problems are listed in an answer (the count says how many there were). */
export const MAX_PROBLEMS = 100;
