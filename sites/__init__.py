"""Territoires, sites (contact points), services, opening hours, closures, communes, agents."""
