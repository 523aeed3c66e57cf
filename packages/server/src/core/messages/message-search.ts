// MessageSearch: full-text search over the messages a viewer can see. Indexed in the same write as
// the message itself, so it is exactly as fresh as MessageStore.
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
