// Every store port's contract, for one backend: SQLite and PostgreSQL each run all of them.
import { conversationStoreContract } from './conversations/conversation-store.contract.js';
import { memberStandingContract } from './conversations/member-standing.contract.js';
import { messageSearchContract } from './messages/message-search.contract.js';
import { messageStoreContract } from './messages/message-store.contract.js';
import { recordSinkContract } from './messages/record-sink.contract.js';
import { presenceVisibilityContract } from './presence/presence-visibility.contract.js';
import { blockStoreContract, storeBlocks } from './safety/block-store.contract.js';
import { reportStoreContract } from './safety/report-store.contract.js';
import { suspensionStoreContract } from './safety/suspension-store.contract.js';
import type { StoreHarness } from './store-harness.contract.js';
import { uploadStoreContract } from './media/upload-store.contract.js';
import { peopleDirectoryContract } from './users/people-directory.contract.js';
import { userStoreContract } from './users/user-store.contract.js';

export function storeContract(name: string, harness: StoreHarness): void {
  userStoreContract(name, harness);
  presenceVisibilityContract(name, harness);
  conversationStoreContract(name, harness);
  messageStoreContract(name, harness);
  messageSearchContract(name, harness);
  uploadStoreContract(name, harness);
  recordSinkContract(name, harness);
  memberStandingContract(name, harness);
  blockStoreContract(name, storeBlocks(harness));
  reportStoreContract(name, harness);
  suspensionStoreContract(name, harness);
  peopleDirectoryContract(name, harness);
}
