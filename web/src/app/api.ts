// JSON over HTTP to our own server. The session cookie rides along (same origin).
import { takeEarlyFetch } from './early'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly line: number | null = null,
  ) {
    super(message)
  }
}

interface ErrorBody {
  error?: string
  detail?: unknown
  line?: number
}

function describe(detail: unknown): string {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (item && typeof item === 'object') {
          const { field, problem } = item as { field?: unknown; problem?: unknown }
          return [field, problem].filter((x) => typeof x === 'string' && x).join(': ')
        }
        return String(item)
      })
      .join('; ')
  }
  if (detail && typeof detail === 'object') return JSON.stringify(detail)
  return ''
}

function lineOf(body: ErrorBody): number | null {
  if (typeof body.line === 'number') return body.line
  const detail = body.detail as { line?: unknown } | undefined
  if (detail && typeof detail === 'object' && typeof detail.line === 'number') return detail.line
  return null
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    // A GET that boot.js already sent (who I am in the review) is answered from there.
    const early = method === 'GET' ? takeEarlyFetch(path) : null
    response = await (early ?? fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    }))
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.')
  }
  const text = await response.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (!response.ok) {
    const err = (data && typeof data === 'object' ? data : {}) as ErrorBody
    const message = describe(err.detail) || `The server answered ${response.status}.`
    throw new ApiError(response.status, err.error ?? 'http-error', message, lineOf(err))
  }
  return data as T
}

export const get = <T>(path: string) => request<T>('GET', path)
export const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body)
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body)
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body)
export const del = <T>(path: string) => request<T>('DELETE', path)

/** Human text of any error thrown by a command. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}
