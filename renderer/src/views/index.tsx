/**
 * Mount point for the section views (owned by the views work). The frame (renderer/src/app/App.tsx)
 * renders `views[sectionId]` for: project · models · suites · runs · graph · features · playground ·
 * probes · exports. Sections without an entry show an empty state.
 */
import type { ComponentType } from 'react';
import type { WorkbenchApi } from '../../../common/api';

export const views: Record<string, ComponentType<{ api: WorkbenchApi }>> = {};
