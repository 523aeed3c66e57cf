// MessageSearch: full-text search over the messages a viewer can see, as fresh as MessageStore: the
// cluster indexes in the message's own write; embedded mode indexes after the commit and lets the
// index catch up before each search (adapters/sqlite/deferred-index.ts).
import type { SearchResult } from '@messenger/protocol';

export interface SearchQuery {
  q: string;
  conversationId?: string;
  limit: number;
}

export interface MessageSearch {
  /** Best match first, then newest; never a message deleted, hidden, or from before the viewer joined. */
  search(viewerId: string, query: SearchQuery): Promise<SearchResult[]>;
}
