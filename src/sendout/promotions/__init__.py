"""Campaigns, codes, publications, promotion tiers, referral and loyalty (issue 3)."""
